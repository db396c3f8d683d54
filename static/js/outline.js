// The lesion's outline and its shape, from the outline model's mask (training/steps/outline.py).
//
// The model gives, for a rows × cols grid squashed over the whole image, the chance that
// each cell is lesion. Here, with no TF.js and no page (pure functions, tested in Node):
//   - the largest region of cells at or above the threshold (8-connected);
//   - its outer boundary at that threshold, traced by marching squares on the chances
//     (so between cells, as the mask stretched bilinearly over the image would lie),
//     smoothed a little and placed in the pixel coordinates of the image;
//   - measures of that shape (the A, B, C and D of the ABCD rule, as rough numbers):
//     areaFraction, asymmetry about both principal axes, compactness 4πA/P² (border),
//     the ABCD colours present, the longest diameter.
// None of them is a diagnosis, and a photo's distance, angle and light change them.

// Reference colours of dermoscopy's ABCD rule (approximate sRGB, for nearest-colour
// counting) and colours that are none of them (the surrounding tones, pink), not counted.
export const COLOURS = [
  { id: 'white', rgb: [235, 230, 228] },
  { id: 'red', rgb: [190, 55, 60] },
  { id: 'light_brown', rgb: [175, 120, 80] },
  { id: 'dark_brown', rgb: [95, 55, 40] },
  { id: 'blue_grey', rgb: [105, 120, 140] },
  { id: 'black', rgb: [30, 25, 25] },
];
const NOT_COUNTED = [[215, 160, 145], [200, 135, 130], [225, 185, 170]];
// A colour is present when at least this share of the lesion's pixels is nearest to it.
export const COLOUR_SHARE = 0.05;
// Fewer lesion cells than this share of the grid: no lesion found.
export const MIN_AREA = 0.003;
// A region whose mean chance is below this: the model is not sure it is a lesion.
export const MIN_MEAN_CHANCE = 0.7;
// Cells of the square grid the shape measures (asymmetry) are drawn on.
const RASTER = 96;

/** The largest 8-connected region of cells with chance ≥ threshold: {cells: Uint8Array, size, meanChance}. */
export function largestRegion(values, rows, cols, threshold) {
  const label = new Int32Array(rows * cols);
  const stack = new Int32Array(rows * cols);
  let best = { id: 0, size: 0, sum: 0 };
  let next = 0;
  for (let start = 0; start < rows * cols; start += 1) {
    if (label[start] || values[start] < threshold) continue;
    next += 1;
    let top = 0;
    let size = 0;
    let sum = 0;
    stack[top++] = start;
    label[start] = next;
    while (top) {
      const at = stack[--top];
      size += 1;
      sum += values[at];
      const r = Math.floor(at / cols);
      const c = at - r * cols;
      for (let dr = -1; dr <= 1; dr += 1) {
        for (let dc = -1; dc <= 1; dc += 1) {
          const rr = r + dr;
          const cc = c + dc;
          if (rr < 0 || rr >= rows || cc < 0 || cc >= cols) continue;
          const n = rr * cols + cc;
          if (!label[n] && values[n] >= threshold) {
            label[n] = next;
            stack[top++] = n;
          }
        }
      }
    }
    if (size > best.size) best = { id: next, size, sum };
  }
  const cells = new Uint8Array(rows * cols);
  for (let i = 0; i < cells.length; i += 1) cells[i] = label[i] === best.id && best.id ? 1 : 0;
  return { cells, size: best.size, meanChance: best.size ? best.sum / best.size : 0 };
}

/**
 * Closed boundaries of {chance ≥ level} (marching squares), as [[row, col], …] in grid
 * coordinates (cell centres at integers; outside the grid counts as 0, so a region at the
 * edge closes along it, half a cell out).
 */
export function contours(values, rows, cols, level) {
  const at = (r, c) => (r < 0 || r >= rows || c < 0 || c >= cols ? 0 : values[r * cols + c]);
  // Edges between samples: horizontal (r, c)–(r, c+1) and vertical (r, c)–(r+1, c), r and c
  // from -1; a crossing's key names its edge, and each crossing joins exactly two cells.
  const W = cols + 2;
  const key = (r, c, vertical) => (((r + 1) * W + (c + 1)) * 2 + (vertical ? 1 : 0));
  const point = (r, c, vertical) => {
    const a = at(r, c);
    const b = vertical ? at(r + 1, c) : at(r, c + 1);
    const t = (level - a) / (b - a);
    return vertical ? [r + t, c] : [r, c + t];
  };
  const links = new Map(); // crossing key → [other crossing keys]
  const points = new Map();
  const join = (e1, e2) => {
    for (const [k, p] of [e1, e2]) if (!points.has(k)) points.set(k, point(...p));
    const k1 = e1[0];
    const k2 = e2[0];
    if (!links.has(k1)) links.set(k1, []);
    if (!links.has(k2)) links.set(k2, []);
    links.get(k1).push(k2);
    links.get(k2).push(k1);
  };
  for (let r = -1; r < rows; r += 1) {
    for (let c = -1; c < cols; c += 1) {
      const tl = at(r, c) >= level;
      const tr = at(r, c + 1) >= level;
      const br = at(r + 1, c + 1) >= level;
      const bl = at(r + 1, c) >= level;
      const index = (tl ? 8 : 0) | (tr ? 4 : 0) | (br ? 2 : 0) | (bl ? 1 : 0);
      if (index === 0 || index === 15) continue;
      const top = [key(r, c, false), [r, c, false]];
      const bottom = [key(r + 1, c, false), [r + 1, c, false]];
      const left = [key(r, c, true), [r, c, true]];
      const right = [key(r, c + 1, true), [r, c + 1, true]];
      const centre = (at(r, c) + at(r, c + 1) + at(r + 1, c) + at(r + 1, c + 1)) / 4 >= level;
      switch (index) {
        case 1: case 14: join(left, bottom); break;
        case 2: case 13: join(bottom, right); break;
        case 3: case 12: join(left, right); break;
        case 4: case 11: join(top, right); break;
        case 6: case 9: join(top, bottom); break;
        case 7: case 8: join(left, top); break;
        case 5: // tr and bl inside
          if (centre) { join(left, top); join(bottom, right); } else { join(top, right); join(left, bottom); }
          break;
        case 10: // tl and br inside
          if (centre) { join(top, right); join(left, bottom); } else { join(left, top); join(bottom, right); }
          break;
        default: break;
      }
    }
  }
  const loops = [];
  const seen = new Set();
  for (const start of links.keys()) {
    if (seen.has(start)) continue;
    const loop = [];
    let previous = null;
    let current = start;
    while (current !== undefined && !seen.has(current)) {
      seen.add(current);
      loop.push(points.get(current));
      const [a, b] = links.get(current);
      const following = a !== previous && !seen.has(a) ? a : b;
      previous = current;
      current = seen.has(following) ? undefined : following;
    }
    if (loop.length >= 3) loops.push(loop);
  }
  return loops;
}

/** Signed area of a polygon [[x, y], …] (shoelace). */
export function polygonArea(points) {
  let sum = 0;
  for (let i = 0, j = points.length - 1; i < points.length; j = i, i += 1) {
    sum += points[j][0] * points[i][1] - points[i][0] * points[j][1];
  }
  return sum / 2;
}

export function perimeter(points) {
  let sum = 0;
  for (let i = 0, j = points.length - 1; i < points.length; j = i, i += 1) {
    sum += Math.hypot(points[i][0] - points[j][0], points[i][1] - points[j][1]);
  }
  return sum;
}

/** Each vertex moved towards its neighbours (weights ¼, ½, ¼), `times` times; closed. */
export function smooth(points, times = 2) {
  let out = points;
  for (let k = 0; k < times; k += 1) {
    const n = out.length;
    out = out.map((p, i) => {
      const a = out[(i + n - 1) % n];
      const b = out[(i + 1) % n];
      return [(a[0] + 2 * p[0] + b[0]) / 4, (a[1] + 2 * p[1] + b[1]) / 4];
    });
  }
  return out;
}

/** Fewer vertices, none further than `tolerance` from the kept line (Douglas-Peucker), closed. */
export function simplify(points, tolerance) {
  if (points.length < 8) return points;
  const keep = new Uint8Array(points.length);
  const far = (a, b) => { // the vertex of points[a..b] furthest from the chord a–b
    const [ax, ay] = points[a];
    const [bx, by] = points[b];
    const length = Math.hypot(bx - ax, by - ay) || 1;
    let best = -1;
    let index = -1;
    for (let i = a + 1; i < b; i += 1) {
      const d = Math.abs((bx - ax) * (ay - points[i][1]) - (ax - points[i][0]) * (by - ay)) / length;
      if (d > best) { best = d; index = i; }
    }
    return [index, best];
  };
  const half = Math.floor(points.length / 2);
  keep[0] = 1;
  keep[half] = 1;
  keep[points.length - 1] = 1;
  const spans = [[0, half], [half, points.length - 1]];
  while (spans.length) {
    const [a, b] = spans.pop();
    if (b - a < 2) continue;
    const [index, distance] = far(a, b);
    if (distance > tolerance) {
      keep[index] = 1;
      spans.push([a, index], [index, b]);
    }
  }
  return points.filter((_, i) => keep[i]);
}

/** For each row y + 0.5 of 0…rows-1, the sorted x where the polygon's edges cross it. */
function crossings(points, rows, rowAt) {
  const out = [];
  for (let row = 0; row < rows; row += 1) {
    const y = rowAt(row);
    const xs = [];
    for (let i = 0, j = points.length - 1; i < points.length; j = i, i += 1) {
      const [x1, y1] = points[j];
      const [x2, y2] = points[i];
      if ((y1 <= y && y2 > y) || (y2 <= y && y1 > y)) xs.push(x1 + ((y - y1) / (y2 - y1)) * (x2 - x1));
    }
    out.push(xs.sort((a, b) => a - b));
  }
  return out;
}

/** The polygon filled on a width × height grid of pixels (1 inside; pixel centres tested). */
export function fill(points, width, height) {
  const out = new Uint8Array(width * height);
  crossings(points, height, (row) => row + 0.5).forEach((xs, row) => {
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = Math.max(0, Math.ceil(xs[k] - 0.5));
      const to = Math.min(width - 1, Math.floor(xs[k + 1] - 0.5));
      for (let x = from; x <= to; x += 1) out[row * width + x] = 1;
    }
  });
  return out;
}

/**
 * Asymmetry about the shape's two principal axes: for each axis, the share of the shape
 * that its mirror image about that axis (through the centre) does not cover; 0 for a
 * shape symmetric about it. {major: about the long axis, minor: about the short axis}.
 */
export function asymmetry(points) {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
  const side = Math.max(Math.max(...xs) - x0, Math.max(...ys) - y0) || 1;
  const scale = (RASTER - 2) / side; // a square grid, one cell of margin
  const shape = fill(points.map(([x, y]) => [(x - x0) * scale + 1, (y - y0) * scale + 1]), RASTER, RASTER);
  let [n, sx, sy] = [0, 0, 0];
  for (let i = 0; i < shape.length; i += 1) {
    if (!shape[i]) continue;
    n += 1;
    sx += i % RASTER;
    sy += Math.floor(i / RASTER);
  }
  if (!n) return { major: 0, minor: 0 };
  const [cx, cy] = [sx / n, sy / n];
  let [xx, yy, xy] = [0, 0, 0];
  for (let i = 0; i < shape.length; i += 1) {
    if (!shape[i]) continue;
    const dx = (i % RASTER) - cx;
    const dy = Math.floor(i / RASTER) - cy;
    xx += dx * dx;
    yy += dy * dy;
    xy += dx * dy;
  }
  const angle = 0.5 * Math.atan2(2 * xy, xx - yy); // direction of the long axis
  const about = (ux, uy) => {
    let outside = 0;
    for (let i = 0; i < shape.length; i += 1) {
      if (!shape[i]) continue;
      const dx = (i % RASTER) - cx;
      const dy = Math.floor(i / RASTER) - cy;
      const along = dx * ux + dy * uy;
      const mx = Math.round(cx + 2 * along * ux - dx);
      const my = Math.round(cy + 2 * along * uy - dy);
      if (mx < 0 || my < 0 || mx >= RASTER || my >= RASTER || !shape[my * RASTER + mx]) outside += 1;
    }
    return outside / n;
  };
  return {
    major: about(Math.cos(angle), Math.sin(angle)),
    minor: about(-Math.sin(angle), Math.cos(angle)),
  };
}

/** The longest distance between two points of the polygon. */
export function diameter(points) {
  let best = 0;
  for (let i = 0; i < points.length; i += 1) {
    for (let j = i + 1; j < points.length; j += 1) {
      const d = (points[i][0] - points[j][0]) ** 2 + (points[i][1] - points[j][1]) ** 2;
      if (d > best) best = d;
    }
  }
  return Math.sqrt(best);
}

/**
 * The ABCD colours inside the polygon (in the pixels' coordinates), from RGBA `pixels`
 * {width, height, data}: each sampled pixel counts for its nearest reference colour;
 * those with at least COLOUR_SHARE of the samples are present, in COLOURS' order.
 */
export function colours(points, pixels, samples = 20000) {
  const { width, height, data } = pixels;
  const step = Math.max(1, Math.sqrt((width * height) / samples));
  const rows = Math.max(1, Math.floor(height / step));
  const references = [...COLOURS.map((c) => c.rgb), ...NOT_COUNTED];
  const counts = new Array(references.length).fill(0);
  let total = 0;
  crossings(points, rows, (row) => (row + 0.5) * step).forEach((xs, row) => {
    const y = Math.min(height - 1, Math.floor((row + 0.5) * step));
    for (let k = 0; k + 1 < xs.length; k += 2) {
      for (let x = Math.ceil(xs[k] / step - 0.5) * step + step / 2; x < xs[k + 1]; x += step) {
        const offset = (y * width + Math.min(width - 1, Math.floor(x))) * 4;
        let best = 0;
        let bestDistance = Infinity;
        references.forEach(([r, g, b], i) => {
          const d = (data[offset] - r) ** 2 + (data[offset + 1] - g) ** 2 + (data[offset + 2] - b) ** 2;
          if (d < bestDistance) { bestDistance = d; best = i; }
        });
        counts[best] += 1;
        total += 1;
      }
    }
  });
  return COLOURS.filter((_, i) => total && counts[i] / total >= COLOUR_SHARE).map((c) => c.id);
}

/**
 * The outline of the largest lesion region, or {polygon: null, reason} when none is found.
 * mask: {rows, cols, values} (chances, row-major, squashed over the whole image);
 * size: [width, height] of the image the polygon is placed on; pixels: its RGBA pixels
 * (for the colours; optional, they may be of another size than `size`).
 */
export function outlineOf(mask, { threshold = 0.5, size, pixels = null } = {}) {
  const { rows, cols, values } = mask;
  const [width, height] = size;
  const region = largestRegion(values, rows, cols, threshold);
  if (region.size < MIN_AREA * rows * cols) return { polygon: null, reason: 'none' };
  if (region.meanChance < MIN_MEAN_CHANCE) return { polygon: null, reason: 'unsure' };
  const kept = Float32Array.from(values, (v, i) => (region.cells[i] ? v : Math.min(v, threshold * 0.999)));
  const loops = contours(kept, rows, cols, threshold);
  if (!loops.length) return { polygon: null, reason: 'none' };
  const outer = loops.reduce((a, b) => (Math.abs(polygonArea(b)) > Math.abs(polygonArea(a)) ? b : a));
  const [sx, sy] = [width / cols, height / rows];
  const clamp = (v, hi) => Math.min(hi, Math.max(0, v));
  const placed = smooth(outer).map(([r, c]) => [clamp((c + 0.5) * sx, width), clamp((r + 0.5) * sy, height)]);
  const polygon = simplify(placed, 0.25 * Math.min(sx, sy))
    .map(([x, y]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10]);
  const area = Math.abs(polygonArea(polygon));
  const length = perimeter(polygon);
  const longest = diameter(polygon);
  let found = [];
  if (pixels) {
    const [px, py] = [pixels.width / width, pixels.height / height];
    found = colours(polygon.map(([x, y]) => [x * px, y * py]), pixels);
  }
  return {
    polygon,
    width,
    height,
    areaFraction: area / (width * height),
    asymmetry: asymmetry(polygon),
    compactness: length ? Math.min(1, (4 * Math.PI * area) / (length * length)) : 0,
    colours: found,
    diameter: longest,
    diameterFraction: longest / Math.max(width, height),
  };
}

/** The polygon of an outline moved to an image `scale` times as large (prepared → given). */
export function scaleOutline(outline, [width, height]) {
  if (!outline?.polygon) return outline;
  const [sx, sy] = [width / outline.width, height / outline.height];
  const polygon = outline.polygon.map(([x, y]) => [Math.round(x * sx * 10) / 10, Math.round(y * sy * 10) / 10]);
  const longest = diameter(polygon);
  return { ...outline, polygon, width, height, diameter: longest, diameterFraction: longest / Math.max(width, height) };
}
