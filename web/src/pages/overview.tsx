import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, apiJson } from '../api';
import { Chart } from '../chart';
import { big, num, pct, when } from '../format';
import { Bar, Empty, ErrorBox, Interval, Loading, Section, Tile } from '../ui';

export interface Rate {
  value: number;
  ci95: [number, number];
}

export interface UpliftArm {
  n: number;
  acceptance: number;
  conversion: number;
  churn: number | null;
  revenue: number | null;
}

export interface UpliftRow {
  action_id?: string;
  target: UpliftArm;
  control: UpliftArm;
  uplift: { acceptance: Rate | null; conversion: Rate | null; churn: Rate | null; revenue: Rate | null };
}

export interface Overview {
  as_of: string;
  window_seconds: number;
  subscribers: number;
  events_per_second: number | null;
  decisions_per_second: number | null;
  series: { t: number; events_per_second: number; decisions_per_second: number }[];
  totals: { events: number; decisions: number; actions_shown: number; responses: number };
  rates: { shown: number; accepted: number; converted: number; acceptance: number | null; conversion: number | null };
  uplift: { since: string; control_share?: number; overall?: UpliftRow; actions: UpliftRow[]; error?: string };
  top_actions: { action_id: string; name: string; shown: number; accepted: number; converted: number; acceptance: number | null; conversion: number | null }[];
  channels: { channel: string; contacts_today: number; cap_per_day: number | null; caps?: { max: number; window_hours: number; all_channels: boolean }[]; capacity: number | null; capacity_period: string | null; capacity_used: number | null }[];
}

// Live: the overview is polled every 2 s (while the tab is visible); each answer also carries the
// server's recent per-second rates, so a newly opened page draws the last minutes at once.
function useOverviewPoll(): { data?: Overview; error?: ApiError; live: boolean } {
  const [state, setState] = useState<{ data?: Overview; error?: ApiError; live: boolean }>({ live: false });
  useEffect(() => {
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (document.visibilityState === 'visible') {
        try {
          const data = await apiJson<Overview>('/v1/reports/overview', { signal: ctl.signal });
          setState({ data, live: true });
        } catch (e) {
          if ((e as Error).name === 'AbortError') return;
          setState((s) => ({ ...s, error: e as ApiError, live: false }));
        }
      }
      if (!ctl.signal.aborted) timer = setTimeout(tick, 2000);
    };
    tick();
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, []);
  return state;
}

export function Overview() {
  const { data, error, live } = useOverviewPoll();
  // Rates seen since the page opened, appended to what the server remembers.
  const history = useRef(new Map<number, [number, number]>());
  if (data) {
    for (const p of data.series) history.current.set(Math.round(p.t / 1000), [p.events_per_second, p.decisions_per_second]);
    const cutoff = Date.now() / 1000 - 900;
    for (const t of history.current.keys()) if (t < cutoff) history.current.delete(t);
  }
  const series = useMemo(() => {
    const ts = [...history.current.keys()].sort((a, b) => a - b);
    return [ts, ts.map((t) => history.current.get(t)![0]), ts.map((t) => history.current.get(t)![1])] as [number[], number[], number[]];
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [data]);

  if (!data && error) return <div class="page"><h1>Overview</h1><ErrorBox error={error} retry={() => location.reload()} /></div>;
  if (!data) return <div class="page"><h1>Overview</h1><Loading what="the overview" /></div>;

  const u = data.uplift;
  return (
    <div class="page">
      <div class="page-head">
        <h1>Overview</h1>
        <span class={'live ' + (live ? 'on' : '')} role="status">
          {live ? 'Live, every 2 s' : 'Reconnecting…'} · as of {when(data.as_of)}
        </span>
      </div>
      {error && <ErrorBox error={error} />}
      <div class="tiles">
        <Tile label="Events / s" value={data.events_per_second === null ? '…' : num(data.events_per_second, 1)} hint={`last ${data.window_seconds} s`} />
        <Tile label="Decisions / s" value={data.decisions_per_second === null ? '…' : num(data.decisions_per_second, 1)} hint={`last ${data.window_seconds} s`} />
        <Tile label="Acceptance" value={pct(data.rates.acceptance)} hint={`${big(data.rates.accepted)} of ${big(data.rates.shown)} shown`} />
        <Tile label="Conversion" value={pct(data.rates.conversion)} hint={`${big(data.rates.converted)} converted`} />
        <Tile label="Subscribers" value={big(data.subscribers)} hint={`${big(data.totals.events)} events since the server started`} />
      </div>

      <div class="grid2">
        <div class="stack">
        <Section title="Throughput" id="h-throughput">
          {series[0].length < 2 ? (
            <Empty title="Measuring…">The rates appear after a few seconds.</Empty>
          ) : (
            <Chart
              label="Events and decisions per second over the last minutes"
              data={series}
              series={[
                { label: 'events/s', stroke: '#224bb5', width: 2, fill: 'rgba(34,75,181,0.08)' },
                { label: 'decisions/s', stroke: '#d9730d', width: 2 },
              ]}
            />
          )}
        </Section>
        <Section title="Top actions" id="h-top">
          {data.top_actions.length === 0 ? (
            <Empty title="No action shown yet.">Decisions will fill this in.</Empty>
          ) : (
            <table class="plain">
              <thead>
                <tr>
                  <th scope="col">Action</th>
                  <th scope="col" class="num">Shown</th>
                  <th scope="col" class="wide">Acceptance</th>
                  <th scope="col" class="num">Conversion</th>
                </tr>
              </thead>
              <tbody>
                {data.top_actions.map((a) => (
                  <tr key={a.action_id}>
                    <th scope="row">
                      <a href={'/actions#' + encodeURIComponent(a.action_id)}>{a.name || a.action_id}</a>
                    </th>
                    <td class="num">{big(a.shown)}</td>
                    <td>
                      <Bar value={a.acceptance ?? 0} max={1} title={`acceptance ${pct(a.acceptance)}`} />
                      <span class="small">{pct(a.acceptance)}</span>
                    </td>
                    <td class="num">{pct(a.conversion)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
        </div>
        <div class="stack">
        <Section title="Contacts per channel today" id="h-channels">
          {data.channels.length === 0 ? (
            <Empty title="No channels configured." />
          ) : (
            <table class="plain">
              <thead>
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col">Contacts</th>
                  <th scope="col" class="wide">Against its limit</th>
                </tr>
              </thead>
              <tbody>
                {data.channels.map((c) => {
                  const limit = c.capacity ?? c.cap_per_day ?? null;
                  const used = c.capacity !== null ? c.capacity_used ?? c.contacts_today : c.contacts_today;
                  const caps = (c.caps ?? []).filter((k) => !k.all_channels).map((k) => `${k.max} per ${window(k.window_hours)}`);
                  const what = [c.capacity !== null ? `capacity ${num(c.capacity)} per ${c.capacity_period ?? 'day'}` : '', caps.length ? `at most ${caps.join(', ')} per subscriber` : ''].filter(Boolean).join(' · ') || 'no channel limit';
                  return (
                    <tr key={c.channel}>
                      <th scope="row">{c.channel}</th>
                      <td class="num">{num(c.contacts_today)}</td>
                      <td>
                        <Bar value={used} max={limit ?? Math.max(1, ...data.channels.map((x) => x.contacts_today))} tone={limit !== null && used >= limit ? 'bad' : ''} title={`${num(used)} used, ${what}`} />
                        <span class="muted small">{what}</span>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {allChannelCaps(data).length > 0 && <p class="muted small">Across all channels: at most {allChannelCaps(data).join(', ')} per subscriber.</p>}
        </Section>
        <Section title="Uplift against the control group" id="h-uplift">
          <UpliftTable uplift={u} />
        </Section>
        </div>
      </div>
    </div>
  );
}

export function UpliftTable({ uplift }: { uplift: Overview['uplift'] }) {
  if (uplift.error) return <Empty title="The uplift report is not available.">{uplift.error}</Empty>;
  const actions = uplift.actions.filter((r) => r.target.n + r.control.n > 0).sort((a, b) => b.target.n - a.target.n);
  const rows = [...(uplift.overall ? [{ ...uplift.overall, action_id: 'All actions' }] : []), ...actions];
  if (rows.length === 0 || !uplift.overall || uplift.overall.target.n === 0) {
    return <Empty title="No decisions in the period yet.">The uplift shows once target and control groups have outcomes.</Empty>;
  }
  let lo = 0;
  let hi = 0;
  for (const r of rows) {
    const c = r.uplift.conversion?.ci95;
    if (c) {
      lo = Math.min(lo, c[0]);
      hi = Math.max(hi, c[1]);
    }
  }
  return (
    <>
      <p class="muted small">
        Conversion, target minus control, with 95 % intervals; since {when(uplift.since)}
        {uplift.control_share !== undefined ? `; control group ${pct(uplift.control_share, 0)}` : ''}.
      </p>
      <table class="plain">
        <thead>
          <tr>
            <th scope="col">Action</th>
            <th scope="col" class="num">Target</th>
            <th scope="col" class="num">Control</th>
            <th scope="col" class="wide">Uplift (conversion)</th>
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, 9).map((r) => {
            const up = r.uplift.conversion;
            return (
              <tr key={r.action_id}>
                <th scope="row">{r.action_id}</th>
                <td class="num" title={`${num(r.target.n)} decisions`}>{pct(r.target.conversion)}</td>
                <td class="num" title={`${num(r.control.n)} decisions`}>{pct(r.control.conversion)}</td>
                <td>
                  {up && up.ci95 ? (
                    <>
                      <Interval lo={up.ci95[0]} mid={up.value} hi={up.ci95[1]} min={lo} max={hi || 0.01} title={`${pct(up.value)} (95 % interval ${pct(up.ci95[0])} to ${pct(up.ci95[1])})`} />
                      <span class="small">
                        {up.value >= 0 ? '+' : ''}
                        {pct(up.value)} [{pct(up.ci95[0])}, {pct(up.ci95[1])}]
                      </span>
                    </>
                  ) : (
                    <span class="muted small">not enough data</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

function window(hours: number): string {
  if (hours % 24 === 0) return hours === 24 ? 'day' : `${hours / 24} days`;
  return hours === 1 ? 'hour' : `${hours} h`;
}

function allChannelCaps(o: Overview): string[] {
  const seen = new Set<string>();
  for (const c of o.channels) for (const k of c.caps ?? []) if (k.all_channels) seen.add(`${k.max} contacts per ${window(k.window_hours)}`);
  return [...seen];
}
