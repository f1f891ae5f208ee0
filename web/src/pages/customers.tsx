import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { apiJson, enc, roleAllows, type WhoAmI } from '../api';
import { Chart } from '../chart';
import { day, label, money, num, pct, when } from '../format';
import { useDebounced, useLoad } from '../hooks';
import { navigate } from '../router';
import { Bar, Empty, ErrorBox, Loading, Section, Tile } from '../ui';

interface Forecast {
  cycle_start: string;
  cycle_end: string;
  days_left: number;
  used: number;
  allowance: number | null;
  remaining: number | null;
  daily_mean: number;
  daily_sd: number;
  days_observed: number;
  expected_to_cycle_end: number;
  interval_90: [number, number];
  expected_cycle_total: number;
  days_to_depletion: number | null;
  p_depletion: number | null;
}

interface Profile {
  subscriber_id: string;
  as_of: string;
  events_applied: number;
  first_seen: string | null;
  last_seen: string | null;
  attributes: Record<string, unknown>;
  aggregates: Record<string, unknown>;
  forecast: Record<string, Forecast>;
  scores: Record<string, string | number | null> | null;
}

interface Candidate {
  action_id: string;
  stage: string;
  reason?: string;
  rule?: string;
  origin?: string;
  line?: number;
  values?: Record<string, string>;
  propensity?: number;
  model_propensity?: number;
  context_weight?: number;
  value?: number;
  levers?: number;
  cost?: number;
  priority?: number;
  probability?: number;
}

interface Decision {
  decision_id: string;
  channel: string;
  actions: { action_id: string; name?: string; treatment?: string; priority?: number; propensity?: number; value?: number; content?: Record<string, string> }[];
  no_action_reason: string | null;
  control_group?: boolean;
  explanation?: {
    contact?: { consent: boolean; quiet_hours: boolean; time_zone?: string; local_time?: string; cap_room: number | null };
    exploration?: string;
    candidates: Candidate[];
  };
}

interface Journeys {
  journeys?: { journey: string; step: number; steps: number | null; next_at: string; next_channel: string | null; started_at: string; origin: string; decisions: string[] }[];
}

export function Customers({ path, who }: { path: string; who: WhoAmI }) {
  const id = decodeURIComponent(path.replace(/^\/customers\/?/, ''));
  return (
    <div class="page">
      <h1>Customers</h1>
      <Search current={id} />
      {id ? <Customer360 key={id} id={id} who={who} /> : <Empty title="Find a customer by id.">Type the start of a subscriber id, for example <code>s00</code>.</Empty>}
    </div>
  );
}

function Search({ current }: { current: string }) {
  const [q, setQ] = useState('');
  const dq = useDebounced(q.trim(), 150);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const list = useLoad<{ subscribers: string[]; more: boolean } | null>(
    (signal) => (dq ? apiJson(`/v1/subscribers?prefix=${enc(dq)}&limit=10`, { signal }) : Promise.resolve(null)),
    [dq],
  );
  const items = list.data?.subscribers ?? [];
  const go = (id: string) => {
    setOpen(false);
    setQ('');
    navigate('/customers/' + enc(id));
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setOpen(true);
      setActive((a) => Math.min(items.length - 1, a + 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => Math.max(-1, a - 1));
    } else if (e.key === 'Escape') {
      setOpen(false);
    }
  };
  const submit = (e: Event) => {
    e.preventDefault();
    if (active >= 0 && items[active]) go(items[active]);
    else if (items.length === 1) go(items[0]);
    else if (q.trim()) go(q.trim());
  };
  return (
    <form class="search" role="search" onSubmit={submit}>
      <label for="customer-search">Subscriber id</label>
      <div class="combo">
        <input
          id="customer-search"
          type="search"
          role="combobox"
          aria-expanded={open && items.length > 0}
          aria-controls="customer-results"
          aria-activedescendant={active >= 0 ? `result-${active}` : undefined}
          autoComplete="off"
          placeholder={current || 'e.g. s0000042'}
          value={q}
          onInput={(e) => {
            setQ((e.target as HTMLInputElement).value);
            setOpen(true);
            setActive(-1);
          }}
          onKeyDown={onKey}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
        />
        <button type="submit" class="primary">
          Show
        </button>
        {open && dq && (
          <ul id="customer-results" class="results" role="listbox" aria-label="Matching subscribers">
            {list.loading && items.length === 0 && <li class="muted">Searching…</li>}
            {list.error && <li class="error">{list.error.message}</li>}
            {!list.loading && !list.error && items.length === 0 && <li class="muted">No subscriber id starts with “{dq}”.</li>}
            {items.map((s, i) => (
              <li key={s} id={`result-${i}`} role="option" aria-selected={i === active} class={i === active ? 'active' : ''} onMouseDown={(e) => { e.preventDefault(); go(s); }}>
                {s}
              </li>
            ))}
            {list.data?.more && <li class="muted small">More match: keep typing.</li>}
          </ul>
        )}
      </div>
    </form>
  );
}

function Customer360({ id, who }: { id: string; who: WhoAmI }) {
  const t0 = useRef(performance.now());
  const profile = useLoad<Profile>((signal) => apiJson(`/v1/subscribers/${enc(id)}`, { signal }), [id]);
  const journeys = useLoad<Journeys>((signal) => apiJson<Journeys>(`/v1/journeys/${enc(id)}`, { signal }).catch(() => ({})), [id]);
  useEffect(() => {
    if (profile.data) {
      const ms = performance.now() - t0.current;
      performance.mark('kairos:customer-rendered');
      document.body.dataset.customerMs = ms.toFixed(1);
    }
  }, [profile.data]);

  if (profile.error) {
    return profile.error.status === 404 ? (
      <Empty title={`No subscriber “${id}”.`}>Check the id, or search by its first characters.</Empty>
    ) : (
      <ErrorBox error={profile.error} retry={profile.reload} />
    );
  }
  if (!profile.data) return <Loading what={`subscriber ${id}`} />;
  const p = profile.data;
  const s = p.scores;
  const drivers = parseDrivers(s?.['score.churn_drivers']);

  return (
    <div class="c360" data-subscriber={p.subscriber_id}>
      <div class="page-head">
        <h2 class="subject">{p.subscriber_id}</h2>
        <span class="muted small">
          {num(p.events_applied)} events · first seen {day(p.first_seen)} · last seen {when(p.last_seen)}
        </span>
      </div>

      <div class="tiles">
        <Tile label="Value tier" value={str(s?.['segment.value_tier'])} hint={s ? `margin ${money(n(s['value.margin']))}/month` : 'not segmented yet'} />
        <Tile label="CLV (12 months)" value={money(n(s?.['clv.expected_12m']))} hint={`P(alive) ${pct(n(s?.['clv.p_alive']), 0)}`} />
        <Tile label="Churn risk" value={pct(n(s?.['score.churn']), 0)} tone={(n(s?.['score.churn']) ?? 0) > 0.5 ? 'bad' : undefined} hint={drivers[0] ? `top driver: ${label(drivers[0].name)}` : undefined} />
        <Tile label="RFM" value={str(s?.['segment.rfm'])} hint={s?.['rfm.code'] ? `code ${s['rfm.code']}` : undefined} />
        <Tile label="Behaviour" value={str(s?.['segment.behaviour'])} hint={[s?.['segment.usage'], s?.['segment.cluster_name']].filter(Boolean).join(' · ') || undefined} />
      </div>

      <div class="grid2">
        <Section title="Master data" id="h-master">
          <dl class="kv">
            {Object.entries(p.attributes).map(([k, v]) => (
              <div key={k}>
                <dt>{label(k)}</dt>
                <dd>{/year$/.test(k) && typeof v === 'number' ? String(v) : fmt(v)}</dd>
              </div>
            ))}
          </dl>
        </Section>
        <Section title="Cycle usage" id="h-usage">
          <UsageCharts forecast={p.forecast} />
        </Section>
      </div>

      <OfferNow id={id} who={who} />

      <div class="grid2">
        <Section title="Aggregates" id="h-aggregates">
          <dl class="kv">
            {Object.entries(p.aggregates).map(([k, v]) => (
              <div key={k}>
                <dt>{label(k)}</dt>
                <dd>{fmt(v)}</dd>
              </div>
            ))}
          </dl>
        </Section>
        <div class="stack">
          <Section title="Churn risk drivers" id="h-drivers">
            {drivers.length === 0 ? (
              <Empty title="No churn drivers.">They appear after a churn scoring run (kairos segment with a churn model).</Empty>
            ) : (
              <table class="plain">
                <tbody>
                  {drivers.map((d) => (
                    <tr key={d.name}>
                      <th scope="row">{label(d.name)}</th>
                      <td class="wide">
                        <Bar value={Math.abs(d.weight)} max={Math.max(...drivers.map((x) => Math.abs(x.weight)))} tone={d.weight > 0 ? 'bad' : 'good'} title={`${d.weight > 0 ? 'raises' : 'lowers'} the risk (${d.weight.toFixed(2)} log-odds)`} />
                      </td>
                      <td class="num small">{d.weight > 0 ? 'raises' : 'lowers'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Section>
          <Section title="Active journeys" id="h-journeys">
            {journeys.loading ? (
              <Loading what="journeys" />
            ) : !journeys.data?.journeys || journeys.data.journeys.length === 0 ? (
              <Empty title="No active journey." />
            ) : (
              <ul class="list">
                {journeys.data.journeys.map((j) => (
                  <li key={j.journey + j.started_at}>
                    <strong>{label(j.journey)}</strong> — step {j.step + 1}
                    {j.steps !== null ? ` of ${j.steps}` : ''}
                    {j.next_channel ? `, next on ${j.next_channel} at ${when(j.next_at)}` : ''}
                    <div class="muted small">
                      started {when(j.started_at)} by {j.origin}; {j.decisions.length} decision{j.decisions.length === 1 ? '' : 's'} so far
                    </div>
                  </li>
                ))}
              </ul>
            )}
          </Section>
        </div>
      </div>
    </div>
  );
}

function UsageCharts({ forecast }: { forecast: Record<string, Forecast> }) {
  const entries = Object.entries(forecast ?? {});
  if (entries.length === 0) return <Empty title="No usage forecast for this subscriber." />;
  return (
    <>
      {entries.map(([name, f]) => (
        <UsageChart key={name} name={name} f={f} />
      ))}
    </>
  );
}

// Used so far in the billing cycle, then the expected path to the cycle's end with its 90 %
// interval, against the allowance.
function UsageChart({ name, f }: { name: string; f: Forecast }) {
  const data = useMemo(() => {
    const start = Date.parse(f.cycle_start) / 1000;
    const end = Date.parse(f.cycle_end) / 1000;
    const now = end - f.days_left * 86400;
    const xs = [start, now, end];
    const used = [0, f.used, null];
    const expected = [null, f.used, f.used + f.expected_to_cycle_end];
    const lo = [null, f.used, f.used + (f.interval_90?.[0] ?? f.expected_to_cycle_end)];
    const hi = [null, f.used, f.used + (f.interval_90?.[1] ?? f.expected_to_cycle_end)];
    const allowance = f.allowance !== null && !unlimited(f) ? [f.allowance, f.allowance, f.allowance] : [null, null, null];
    return [xs, used, expected, lo, hi, allowance] as unknown as import('uplot').AlignedData;
  }, [f]);
  return (
    <figure class="usage">
      <figcaption>
        <strong>{label(name)}</strong>: {num(f.used, 1)} used
        {f.allowance === null ? '' : unlimited(f) ? ' (unlimited)' : ` of ${num(f.allowance, 1)}`}; expected {num(f.expected_cycle_total, 1)} by {day(f.cycle_end)} (90 %: {num(f.used + f.interval_90[0], 1)}–{num(f.used + f.interval_90[1], 1)})
        {f.p_depletion !== null && f.p_depletion !== undefined ? `; P(runs out) ${pct(f.p_depletion, 0)}` : ''}
      </figcaption>
      <Chart
        label={`${label(name)}: cycle usage against allowance with forecast`}
        height={180}
        data={data}
        series={[
          { label: 'used', stroke: '#224bb5', width: 2 },
          { label: 'expected', stroke: '#d9730d', width: 2, dash: [6, 4] },
          { label: '90 % low', stroke: 'rgba(217,115,13,0.4)', width: 1 },
          { label: '90 % high', stroke: 'rgba(217,115,13,0.4)', width: 1 },
          { label: 'allowance', stroke: '#b42318', width: 1.5, dash: [2, 3] },
        ]}
        bands={[{ series: [4, 3], fill: 'rgba(217,115,13,0.15)' }]}
      />
    </figure>
  );
}

// An allowance far above any use ("99999 minutes") is a flat rate: no line for it.
function unlimited(f: Forecast): boolean {
  return f.allowance !== null && f.allowance >= 10 * Math.max(1, f.expected_cycle_total, f.used) && f.allowance >= 9999;
}

const stageNames: Record<string, string> = {
  chosen: 'Offered',
  limit: 'Ranked below the top',
  group: 'Its group had a better one',
  threshold: 'Priority too low',
  value: 'Value does not cover cost',
  capacity: 'Channel capacity taken',
  volume: 'Daily volume used up',
  control_group: 'Held back (control group)',
  contact_cap: 'Contact cap reached',
  quiet_hours: 'Quiet hours',
};

function OfferNow({ id, who }: { id: string; who: WhoAmI }) {
  const may = roleAllows(who.role, 'decision');
  const channels = useLoad<{ channels: string[] }>((signal) => apiJson('/v1/actions', { signal }), []);
  const [channel, setChannel] = useState<string>('');
  useEffect(() => {
    if (!channel && channels.data?.channels.length) setChannel(channels.data.channels[0]);
  }, [channels.data, channel]);
  const decision = useLoad<Decision | null>(
    (signal) =>
      may && channel
        ? apiJson<Decision>('/v1/decide', { method: 'POST', body: { subscriber_id: id, channel, dry_run: true, explain: true, limit: 3 }, signal })
        : Promise.resolve(null),
    [id, channel, may],
  );
  if (!may) {
    return (
      <Section title="What would we offer now" id="h-offer">
        <Empty title="Your role cannot run decisions.">A key with the decision (or admin) role sees what Kairos would offer and why.</Empty>
      </Section>
    );
  }
  const d = decision.data;
  return (
    <Section
      title="What would we offer now"
      id="h-offer"
      actions={
        <div class="tabs" role="tablist" aria-label="Channel">
          {(channels.data?.channels ?? []).map((c) => (
            <button key={c} type="button" role="tab" aria-selected={c === channel} class={c === channel ? 'tab on' : 'tab'} onClick={() => setChannel(c)}>
              {c}
            </button>
          ))}
        </div>
      }
    >
      <p class="muted small">A dry run: nothing is recorded, no caps are used.</p>
      {channels.error && <ErrorBox error={channels.error} retry={channels.reload} />}
      {decision.error && <ErrorBox error={decision.error} retry={decision.reload} />}
      {decision.loading && !d && <Loading what="the decision" />}
      {d && (
        <div class="explain" aria-busy={decision.loading}>
          {d.actions.length === 0 ? (
            <p class="verdict none">
              Nothing to offer on {d.channel}: {d.no_action_reason ?? 'no candidate qualified'}
              {d.control_group ? ' (control group)' : ''}.
            </p>
          ) : (
            <ol class="verdict">
              {d.actions.map((a) => (
                <li key={a.action_id}>
                  <strong>{a.name ?? a.action_id}</strong> <span class="muted">({a.action_id})</span> — priority {num(a.priority, 3)}, P(accept) {pct(a.propensity)}, value {money(a.value)}
                  {a.content && (
                    <div class="content-preview">
                      {[a.content.title ?? a.content.subject, a.content.body ?? a.content.text].filter(Boolean).join(' — ')}
                    </div>
                  )}
                </li>
              ))}
            </ol>
          )}
          {d.explanation?.contact && (
            <p class="muted small">
              Consent {d.explanation.contact.consent ? 'given' : 'missing'} · quiet hours {d.explanation.contact.quiet_hours ? 'now' : 'not now'}
              {d.explanation.contact.local_time ? ` · local time ${d.explanation.contact.local_time} (${d.explanation.contact.time_zone})` : ''} · contacts left under the caps:{' '}
              {d.explanation.contact.cap_room ?? 'no cap'}
            </p>
          )}
          <div class="table-scroll">
          <table class="plain candidates">
            <caption>Every candidate and why it was offered, ranked or dropped</caption>
            <thead>
              <tr>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
                <th scope="col">Why</th>
                <th scope="col" class="num" title="propensity">P</th>
                <th scope="col" class="num" title="context weight">C</th>
                <th scope="col" class="num" title="value">V</th>
                <th scope="col" class="num" title="levers">L</th>
                <th scope="col" class="num">Priority</th>
              </tr>
            </thead>
            <tbody>
              {shownCandidates(d).map((c) => (
                <tr key={c.action_id} class={'stage-' + c.stage}>
                  <th scope="row">{c.action_id}</th>
                  <td>
                    <span class={'pill ' + (c.stage === 'chosen' ? 'good' : c.priority !== undefined ? '' : 'bad')}>{stageNames[c.stage] ?? 'Dropped: ' + label(c.stage).toLowerCase()}</span>
                  </td>
                  <td class="why">
                    {c.reason ?? (c.stage === 'chosen' ? 'highest priority within the limits' : '')}
                    {c.rule && (
                      <div class="rule">
                        <code>{c.rule}</code>
                        {c.origin && <span class="muted small"> — {c.origin}{c.line ? `, line ${c.line}` : ''}</span>}
                      </div>
                    )}
                    {c.values && Object.keys(c.values).length > 0 && (
                      <div class="muted small">{Object.entries(c.values).map(([k, v]) => `${k} = ${short(v)}`).join(', ')}</div>
                    )}
                  </td>
                  <td class="num">{c.propensity !== undefined ? num(c.propensity, 2) : ''}</td>
                  <td class="num">{c.context_weight !== undefined ? num(c.context_weight, 2) : ''}</td>
                  <td class="num">{c.value !== undefined ? num(c.value, 1) : ''}</td>
                  <td class="num">{c.levers !== undefined ? num(c.levers, 2) : ''}</td>
                  <td class="num">{c.priority !== undefined ? num(c.priority, 3) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          </div>
          {noTreatment(d).length > 0 && (
            <details class="more">
              <summary>
                {noTreatment(d).length} more actions have no treatment for {d.channel}
              </summary>
              <p class="small">{noTreatment(d).map((c) => c.action_id).join(', ')}</p>
            </details>
          )}
        </div>
      )}
    </Section>
  );
}

const stageOrder = ['chosen'];

// Offered first, then the scored ones by priority, then the dropped ones in pipeline order;
// actions without a treatment for the channel are summarised below the table.
function shownCandidates(d: Decision): Candidate[] {
  const all = (d.explanation?.candidates ?? []).filter((c) => !(c.stage === 'channel' && !c.rule));
  const rank = (c: Candidate) => (stageOrder.includes(c.stage) ? stageOrder.indexOf(c.stage) : c.priority !== undefined ? 3 : 4);
  return all
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c) - rank(b.c) || (b.c.priority ?? -1) - (a.c.priority ?? -1) || a.i - b.i)
    .map((x) => x.c);
}

function noTreatment(d: Decision): Candidate[] {
  return (d.explanation?.candidates ?? []).filter((c) => c.stage === 'channel' && !c.rule);
}

function short(v: string): string {
  const n = Number(v);
  return v !== '' && Number.isFinite(n) && /\.\d{3,}/.test(v) ? num(n, 2) : v;
}

function parseDrivers(v: unknown): { name: string; weight: number }[] {
  if (typeof v !== 'string' || !v) return [];
  return v
    .split(',')
    .map((p) => {
      const i = p.lastIndexOf(':');
      return { name: p.slice(0, i), weight: Number(p.slice(i + 1)) };
    })
    .filter((d) => d.name && Number.isFinite(d.weight))
    .slice(0, 6);
}

function n(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

function str(v: unknown): string {
  return v === null || v === undefined || v === '' ? '—' : label(String(v));
}

function fmt(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? num(v) : num(v, 2);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string') return /^\d{4}-\d\d-\d\dT/.test(v) ? when(v) : v;
  if (Array.isArray(v)) return v.map(fmt).join(', ');
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${label(k)} ${fmt(x)}`)
      .join(' · ');
  }
  return String(v);
}
