// The view in the URL's fragment, so that a link restores it: the model, the picked point z,
// the pinned A (its μ; drawings are not in links), the decoded-grid toggle and the backend.
//   #model=mse&z=0.50,-1.25&pin=1.00,0.40&grid=1&backend=cpu
// Pure functions, unit tested (tests/unit/fragment.test.js); a bad part is dropped and named,
// never trusted.

/** Largest |coordinate| a link may hold (the planes span a few units). */
const LIMIT = 100;
const BACKENDS = ['cpu', 'webgpu'];

function parsePoint(text) {
  const parts = text.split(',');
  if (parts.length !== 2) return null;
  const z = parts.map((p) => (/^-?\d+(\.\d+)?$/.test(p.trim()) ? Number(p) : NaN));
  return z.every((v) => Number.isFinite(v) && Math.abs(v) <= LIMIT) ? z : null;
}

/**
 * Parses a fragment (with or without its `#`). Returns `{view, problems}`: `view` holds the
 * parts that were understood (`model`, `z`, `pin`, `grid`, `backend`), `problems` names the
 * others.
 */
export function parseFragment(hash) {
  const view = {};
  const problems = [];
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!text) return { view, problems };
  for (const [key, value] of new URLSearchParams(text)) {
    switch (key) {
      case 'model':
        if (/^[a-z0-9-]{1,32}$/.test(value)) view.model = value;
        else problems.push(`model “${value}”`);
        break;
      case 'z':
      case 'pin': {
        const z = parsePoint(value);
        if (z) view[key] = z;
        else problems.push(`${key} “${value}”`);
        break;
      }
      case 'grid':
        if (value === '1' || value === '0') view.grid = value === '1';
        else problems.push(`grid “${value}”`);
        break;
      case 'backend':
        if (BACKENDS.includes(value)) view.backend = value;
        else problems.push(`backend “${value}”`);
        break;
      default:
        problems.push(`“${key}”`);
    }
  }
  return { view, problems };
}

const num = (v) => (Math.round(v * 100) / 100).toFixed(2);

/** The fragment (with `#`) for a view; parts that are absent are left out. */
export function formatFragment({ model, z, pin, grid, backend }) {
  const parts = [];
  if (model) parts.push(`model=${model}`);
  if (z) parts.push(`z=${num(z[0])},${num(z[1])}`);
  if (pin) parts.push(`pin=${num(pin[0])},${num(pin[1])}`);
  if (grid) parts.push('grid=1');
  if (backend) parts.push(`backend=${backend}`);
  return parts.length ? `#${parts.join('&')}` : '';
}
