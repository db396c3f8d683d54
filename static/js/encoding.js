// Encodes a person's optional {age, sex, site} into the model's metadata vector.
// The rules come from metadata.json (written from the Python task registry);
// training/inputs/encoding.py implements the same rules and a test compares both.

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function isMissing(value) {
  return value === undefined || value === null ||
    (typeof value === 'number' && Number.isNaN(value)) ||
    (typeof value === 'string' && ['', 'unknown'].includes(value.trim().toLowerCase()));
}

function encodeNumber(field, value) {
  if (isMissing(value)) return [0, 1];
  // Plain decimal numbers only ("45", "45.5"), as in training/inputs/encoding.py: no hex, no booleans.
  const text = String(value).trim();
  const number = typeof value === 'number' ? value : (DECIMAL.test(text) ? Number(text) : NaN);
  if (typeof value === 'boolean' || !Number.isFinite(number)) {
    throw new Error(`${field.label} must be a number between ${field.minimum} and ${field.maximum} (got "${value}").`);
  }
  if (number < field.minimum || number > field.maximum) {
    throw new Error(`${field.label} must be between ${field.minimum} and ${field.maximum} (got ${number}).`);
  }
  return [number / field.scale, 0];
}

function encodeCategory(field, value) {
  const slots = new Array(field.size).fill(0);
  if (isMissing(value)) {
    slots[field.size - 1] = 1;
    return slots;
  }
  const key = String(value).trim().toLowerCase();
  const index = field.values.indexOf(key);
  if (index < 0) {
    throw new Error(`${field.label} must be one of: ${field.values.join(', ')} or unknown (got "${value}").`);
  }
  slots[index] = 1;
  return slots;
}

/** Vector (plain array) for `values`; any field missing is "unknown". Throws a readable Error. */
export function encodeMetadata(encoding, values) {
  if (values === undefined || values === null) values = {};
  if (typeof values !== 'object' || Array.isArray(values)) {
    throw new Error('Metadata must be an object such as {age: 45, sex: "female", site: "back"}.');
  }
  const names = encoding.fields.map((f) => f.name);
  const unknown = Object.keys(values).filter((k) => !names.includes(k));
  if (unknown.length) {
    throw new Error(`Unknown metadata field(s) ${unknown.join(', ')}; valid fields: ${names.join(', ') || 'none'}.`);
  }
  const out = [];
  for (const field of encoding.fields) {
    const value = values[field.name];
    if (field.kind === 'number') out.push(...encodeNumber(field, value));
    else if (field.kind === 'category') out.push(...encodeCategory(field, value));
    else throw new Error(`Unsupported metadata field kind ${field.kind}`);
  }
  if (out.length !== encoding.size) throw new Error('Metadata encoding does not match the model.');
  return out;
}
