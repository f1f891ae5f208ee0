// Small shared pieces: loading, error and empty states, tiles, bars.
import type { ComponentChildren } from 'preact';
import { ApiError } from './api';

export function Loading({ what }: { what: string }) {
  return (
    <div class="state loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function ErrorBox({ error, retry }: { error: ApiError | Error; retry?: () => void }) {
  return (
    <div class="state error" role="alert">
      <strong>Something went wrong.</strong> {error.message}
      {retry && (
        <button type="button" class="link" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="state empty">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

export function Tile({ label, value, hint, tone }: { label: string; value: string; hint?: string; tone?: 'good' | 'bad' }) {
  return (
    <div class={'tile' + (tone ? ' ' + tone : '')}>
      <div class="tile-label">{label}</div>
      <div class="tile-value">{value}</div>
      {hint && <div class="tile-hint">{hint}</div>}
    </div>
  );
}

// A horizontal bar: `value` of `max`, with an optional marker (a cap) at `mark`.
export function Bar({ value, max, mark, tone, title }: { value: number; max: number; mark?: number; tone?: string; title?: string }) {
  const m = max > 0 ? max : 1;
  const w = Math.max(0, Math.min(100, (value / m) * 100));
  return (
    <div class="bar" title={title} role="img" aria-label={title}>
      <div class={'bar-fill ' + (tone ?? '')} style={{ width: w + '%' }} />
      {mark !== undefined && mark > 0 && <div class="bar-mark" style={{ left: Math.min(100, (mark / m) * 100) + '%' }} />}
    </div>
  );
}

// A point estimate with its 95 % interval on a 0..max scale (uplift charts).
export function Interval({ lo, mid, hi, min, max, title }: { lo: number; mid: number; hi: number; min: number; max: number; title: string }) {
  const span = max - min || 1;
  const x = (v: number) => Math.max(0, Math.min(100, ((v - min) / span) * 100));
  return (
    <div class="interval" role="img" aria-label={title} title={title}>
      {min < 0 && <div class="interval-zero" style={{ left: x(0) + '%' }} />}
      <div class="interval-range" style={{ left: x(lo) + '%', width: Math.max(0.5, x(hi) - x(lo)) + '%' }} />
      <div class="interval-dot" style={{ left: x(mid) + '%' }} />
    </div>
  );
}

export function Section({ title, children, actions, id }: { title: string; children: ComponentChildren; actions?: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={id}>
      <header class="card-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}
