// Number and time formatting for people (en-GB style: 1,234.5; 12.3 %).

const nf0 = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1 });
const nf2 = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat('en-GB', { notation: 'compact', maximumFractionDigits: 1 });

export function num(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return (digits === 0 ? nf0 : digits === 1 ? nf1 : nf2).format(v + 0).replace(/^-0$/, '0');
}

export function big(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return Math.abs(v) >= 10000 ? compact.format(v) : nf0.format(v);
}

export function pct(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return (v * 100).toFixed(digits) + ' %';
}

export function money(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return nf2.format(v + 0).replace(/^-0$/, '0');
}

export function when(ts: string | number | null | undefined): string {
  if (ts === null || ts === undefined || ts === '') return '—';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return String(ts);
  return d.toISOString().replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
}

export function day(ts: string | number | null | undefined): string {
  if (ts === null || ts === undefined || ts === '') return '—';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return String(ts);
  return d.toISOString().slice(0, 10);
}

// "value_tier" → "Value tier"
export function label(name: string): string {
  const s = name.replace(/[_.]+/g, ' ').trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// Axis labels for uPlot time scales: 11:15:30 (and the date when the span is long).
export function timeTicks(_u: unknown, splits: number[]): string[] {
  const span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
  return splits.map((v) => {
    const iso = new Date(v * 1000).toISOString();
    return span > 2 * 86400 ? iso.slice(5, 10) : span > 600 ? iso.slice(11, 16) : iso.slice(11, 19);
  });
}
