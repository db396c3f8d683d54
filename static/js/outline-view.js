// "The lesion's outline": assess()'s `outline` (static/js/outline.js) drawn over the
// image preview of a screener whose model has an outline, and its measures in words.
//
// The polygon is in the pixels of the image given, which is the preview's natural size
// (both with EXIF rotation applied), so an SVG whose viewBox is that size, laid over the
// whole picture where object-fit draws it (heatmap.js's placeOver, 'squash': the whole
// picture), puts it in place at any size. Its line keeps its width in CSS pixels
// (non-scaling-stroke): a dark line on a light one, readable on any photo and on a phone.

import { placeOver } from './heatmap.js';
import { formatPercent, language, t, translateMessage } from './i18n.js';

const SVG = 'http://www.w3.org/2000/svg';

/** The ABCD colour names, in the page's language (outline.js's ids). */
export function colourName(id) {
  return {
    white: t('white'),
    red: t('red'),
    light_brown: t('light brown'),
    dark_brown: t('dark brown'),
    blue_grey: t('blue-grey'),
    black: t('black'),
  }[id] || id;
}

/** The SVG path data of a polygon [[x, y], …] (closed). */
export function pathData(polygon) {
  return `${polygon.map(([x, y], i) => `${i ? 'L' : 'M'}${x} ${y}`).join(' ')} Z`;
}

/**
 * The measures of an outline as [{term, value, meaning}] in plain words (the page's
 * language); figures from outline.js, none of them a diagnosis.
 */
export function measureRows(outline) {
  const percent = (value) => formatPercent(value, 0);
  const colours = outline.colours.map(colourName);
  return [
    {
      id: 'area',
      term: t('Size in the photo'),
      value: t('{area} of the photo; longest diameter {diameter} of its longer side',
        { area: percent(outline.areaFraction), diameter: percent(outline.diameterFraction) }),
      meaning: t('How much of the photo the outlined area fills. Not its real size: that '
        + 'depends on how close the camera was.'),
    },
    {
      id: 'asymmetry',
      term: t('Asymmetry'),
      value: t('{major} about the long axis, {minor} about the short axis',
        { major: percent(outline.asymmetry.major), minor: percent(outline.asymmetry.minor) }),
      meaning: t('The share of the outlined area that its mirror image about each axis does not '
        + 'cover: 0% means the two halves match. An uneven shape is one sign doctors look at.'),
    },
    {
      id: 'border',
      term: t('Border'),
      value: t('compactness {value}', {
        value: new Intl.NumberFormat(language, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
          .format(outline.compactness),
      }),
      meaning: t('1.00 for a circle; lower for an uneven, notched or stretched outline. The '
        + 'outline is smoothed, so fine notches do not show.'),
    },
    {
      id: 'colours',
      term: t('Colours'),
      value: colours.length
        ? t('{count} of 6: {names}', { count: colours.length, names: colours.join(', ') })
        : t('none of the 6 clearly'),
      meaning: t('Of the six colours of the ABCD rule (white, red, light brown, dark brown, '
        + 'blue-grey, black), those covering at least 5% of the outlined area. Light and '
        + 'camera change them.'),
    },
  ];
}

/** The <dt>/<dd> pairs of measureRows(outline), each value with what it means. */
export function measureList(outline) {
  return measureRows(outline).flatMap((row) => {
    const term = document.createElement('dt');
    term.textContent = row.term;
    const value = document.createElement('dd');
    value.className = 'mb-0';
    value.dataset.measure = row.id;
    const figure = document.createElement('span');
    figure.className = 'outline-value';
    figure.textContent = row.value;
    const meaning = document.createElement('span');
    meaning.className = 'd-block small text-body-secondary mb-2';
    meaning.textContent = row.meaning;
    value.append(figure, meaning);
    return [term, value];
  });
}

/** An <svg> drawing `outline`'s polygon over a box of its image's aspect (viewBox: its size). */
export function outlineSvg(outline, svg = document.createElementNS(SVG, 'svg')) {
  svg.setAttribute('viewBox', `0 0 ${outline.width} ${outline.height}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  const d = pathData(outline.polygon);
  const paths = ['outline-halo', 'outline-line'].map((name) => {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('class', name);
    path.setAttribute('d', d);
    path.setAttribute('vector-effect', 'non-scaling-stroke');
    return path;
  });
  svg.replaceChildren(...paths);
  return svg;
}

/**
 * What of assess()'s outline a saved result keeps (history-save.js): the polygon with one
 * decimal on an image of at most 400 px a side, and the measures; null without one.
 */
export function keptOutline(outline) {
  if (!outline?.polygon) return null;
  const scale = Math.min(1, 400 / Math.max(outline.width, outline.height));
  const round = (value, digits) => Math.round(value * 10 ** digits) / 10 ** digits;
  return {
    polygon: outline.polygon.map(([x, y]) => [round(x * scale, 1), round(y * scale, 1)]),
    width: round(outline.width * scale, 1),
    height: round(outline.height * scale, 1),
    areaFraction: round(outline.areaFraction, 4),
    asymmetry: { major: round(outline.asymmetry.major, 3), minor: round(outline.asymmetry.minor, 3) },
    compactness: round(outline.compactness, 3),
    colours: [...outline.colours],
    diameterFraction: round(outline.diameterFraction, 4),
  };
}

/** `image` in a frame with `outline` drawn over it (an <img> whose box has its aspect); the
 * drawing is named `label`, or hidden from assistive technology without one. */
export function outlinedImage(image, outline, label = null) {
  const frame = document.createElement('span');
  frame.className = 'outline-frame';
  image.replaceWith(frame);
  frame.append(image);
  if (outline?.polygon) {
    const svg = outlineSvg(outline);
    svg.setAttribute('class', 'outline-overlay outline-fit');
    if (label) {
      svg.setAttribute('role', 'img');
      svg.setAttribute('aria-label', label);
    } else {
      svg.setAttribute('aria-hidden', 'true');
    }
    frame.append(svg);
  }
  return frame;
}

/**
 * The overlay and panel of a page: `show(outline, message)` draws the outline over
 * `image` and lists its measures (outline null: the message, if any), `hide()` removes
 * both. Elements: { image, svg (absolutely positioned in the image's positioned parent),
 * panel, toggle (checkbox), measures (a <dl>), message (a <p>) }.
 */
export function outlineView(elements) {
  const { image, svg, panel, toggle, measures, message } = elements;
  let current = null;

  function place() {
    if (!current || !image.naturalWidth || !image.clientWidth) return;
    // The whole image: the outline's polygon is in the image's own pixels.
    const { region } = placeOver(image, { resize: 'squash' });
    Object.assign(svg.style, {
      left: `${region.left}px`,
      top: `${region.top}px`,
      width: `${region.width}px`,
      height: `${region.height}px`,
    });
  }

  function applyToggle() {
    svg.toggleAttribute('hidden', !current || !toggle.checked); // (no .hidden on an SVG element)
  }

  toggle.addEventListener('change', applyToggle);
  new ResizeObserver(place).observe(image);
  image.addEventListener('load', place);

  function draw(outline) {
    outlineSvg(outline, svg);
  }

  function list(outline) {
    measures.replaceChildren(...measureList(outline));
  }

  return {
    show(outline, note = null) {
      current = outline?.polygon ? outline : null;
      panel.hidden = !current && !note;
      message.hidden = Boolean(current) || !note;
      message.textContent = note ? translateMessage(note) : '';
      toggle.closest('.form-check').hidden = !current;
      measures.hidden = !current;
      panel.querySelectorAll('.outline-caveat').forEach((node) => { node.hidden = !current; });
      if (current) {
        draw(current);
        list(current);
        place();
      } else {
        svg.replaceChildren();
        measures.replaceChildren();
      }
      applyToggle();
    },
    hide() {
      this.show(null);
    },
  };
}
