import { apiJson } from '../api';
import { big, label, money, num, pct, when } from '../format';
import { useLoad } from '../hooks';
import { Bar, Empty, ErrorBox, Loading, Section } from '../ui';

interface Figures {
  subscribers: number;
  share: number;
  revenue: number;
  revenue_share: number;
  margin: number;
  margin_share: number;
  effort: number;
  effort_share: number;
}

interface Report {
  run: string;
  at: string;
  subscribers: number;
  total: Figures;
  thresholds: { value_high: number; value_low: number; effort_high: number };
  value_tiers: Record<string, Figures>;
  behaviour: Record<string, Figures>;
  buyer: Record<string, Figures>;
  usage: Record<string, Figures>;
  rfm: Record<string, Figures>;
  clusters: {
    selection: string;
    silhouette: { k: number; silhouette: number }[];
    clusters: { id: number; name: string; description: string; figures: Figures; centroid: Record<string, number> }[];
  };
  clv?: { status: string; customers?: number; mean_expected_12m?: number };
  churn?: { status: string; scored?: number; mean?: number };
}

// The grid's cells (value level × effort level) as segments.yaml names them by default; a cell
// shared by two levels is drawn once across both.
const gridCells: { tier: string; row: string; col: string; value: string; effort: string }[] = [
  { tier: 'protect', row: '1 / 2', col: '2 / 3', value: 'high value', effort: 'low effort' },
  { tier: 'balanced', row: '1 / 3', col: '3 / 4', value: 'high and mid value', effort: 'high effort' },
  { tier: 'develop', row: '2 / 4', col: '2 / 3', value: 'mid and low value', effort: 'low effort' },
  { tier: 'reduce_effort', row: '3 / 4', col: '3 / 4', value: 'low value', effort: 'high effort' },
];

export function Segments() {
  const r = useLoad<Report>((signal) => apiJson('/v1/segments', { signal }), []);
  if (r.error) {
    return (
      <div class="page">
        <h1>Segments</h1>
        {r.error.status === 404 ? (
          <Empty title="No segmentation run yet.">
            Run <code>kairos segment --workspace DIR</code>, or set a <code>schedule</code> in segments.yaml; this page then shows the value × effort
            grid, the behavioural segments and the clusters.
          </Empty>
        ) : (
          <ErrorBox error={r.error} retry={r.reload} />
        )}
      </div>
    );
  }
  if (!r.data) return <div class="page"><h1>Segments</h1><Loading what="the segmentation" /></div>;
  const d = r.data;
  const tiers = d.value_tiers ?? {};
  const defaultGrid = Object.keys(tiers).every((t) => gridCells.some((c) => c.tier === t));
  const maxRevenueShare = Math.max(0.0001, ...Object.values(tiers).map((f) => f.revenue_share));

  return (
    <div class="page">
      <div class="page-head">
        <h1>Segments</h1>
        <span class="muted small">
          Run {d.run} at {when(d.at)} · {big(d.subscribers)} subscribers
        </span>
      </div>
      <div class="grid2">
        <Section title="Value × effort" id="h-grid">
          {defaultGrid ? (
            <div class="vgrid-wrap">
              <div class="vgrid" role="list" aria-label="Subscribers and revenue per cell of the value × effort grid">
                <span class="vy" style={{ gridRow: '1', gridColumn: '1' }} aria-hidden="true">high value</span>
                <span class="vy" style={{ gridRow: '2', gridColumn: '1' }} aria-hidden="true">mid value</span>
                <span class="vy" style={{ gridRow: '3', gridColumn: '1' }} aria-hidden="true">low value</span>
                <span class="vx" style={{ gridRow: '4', gridColumn: '2' }} aria-hidden="true">low effort</span>
                <span class="vx" style={{ gridRow: '4', gridColumn: '3' }} aria-hidden="true">high effort</span>
                {gridCells.map((c) => {
                  const f = tiers[c.tier];
                  const alpha = f ? 0.12 + 0.7 * (f.revenue_share / maxRevenueShare) : 0.04;
                  return (
                    <div role="listitem" key={c.tier} class="vcell" style={{ gridRow: c.row, gridColumn: c.col, background: `rgba(34,75,181,${alpha.toFixed(2)})`, color: alpha > 0.5 ? '#fff' : undefined }} title={`${label(c.tier)}: ${c.value}, ${c.effort}`}>
                      <strong>{label(c.tier)}</strong>
                      <span>{f ? `${big(f.subscribers)} customers (${pct(f.share, 0)})` : 'nobody'}</span>
                      {f && <span>revenue {pct(f.revenue_share, 0)} · margin {money(f.margin)}</span>}
                    </div>
                  );
                })}
              </div>

            </div>
          ) : (
            <FigureTable rows={tiers} />
          )}
          <p class="muted small">
            Thresholds: margin above {money(d.thresholds.value_high)} is high value, below {money(d.thresholds.value_low)} low; effort above {money(d.thresholds.effort_high)} per month is high. Darker cells earn more of the revenue.
          </p>
        </Section>
        <Section title="Lifetime value and churn" id="h-clv">
          <dl class="kv">
            <div><dt>CLV model</dt><dd>{d.clv?.status ?? '—'}</dd></div>
            <div><dt>Customers with a CLV</dt><dd>{big(d.clv?.customers)}</dd></div>
            <div><dt>Mean expected margin, 12 months</dt><dd>{money(d.clv?.mean_expected_12m)}</dd></div>
            <div class="wide-kv"><dt>Churn scoring</dt><dd class="small">{d.churn?.status ?? '—'}</dd></div>
            <div><dt>Scored</dt><dd>{big(d.churn?.scored)}</dd></div>
            <div><dt>Mean churn risk</dt><dd>{d.churn?.scored ? pct(d.churn?.mean) : '—'}</dd></div>
          </dl>
          <p class="muted small">Segment sizes over time: each run replaces the last report, so this page shows the latest run.</p>
        </Section>
      </div>
      <div class="grid2">
        <Section title="Behaviour" id="h-behaviour">
          <FigureTable rows={d.behaviour} />
        </Section>
        <Section title="RFM segments" id="h-rfm">
          <FigureTable rows={d.rfm} />
        </Section>
        <Section title="Usage" id="h-usage-seg">
          <FigureTable rows={d.usage} />
        </Section>
        <Section title="Buyer type" id="h-buyer">
          <FigureTable rows={d.buyer} />
        </Section>
      </div>
      <Section title={`Clusters (${d.clusters?.clusters?.length ?? 0})`} id="h-clusters">
        {!d.clusters?.clusters?.length ? (
          <Empty title="No clusters.">Add cluster features to segments.yaml.</Empty>
        ) : (
          <div class="cards">
            {d.clusters.clusters.map((c) => (
              <article class="mini" key={c.id}>
                <h3>
                  {c.id}. {label(c.name)}
                </h3>
                <p class="small">{c.description}</p>
                <Bar value={c.figures.share} max={1} title={`${pct(c.figures.share)} of subscribers`} />
                <p class="small muted">
                  {big(c.figures.subscribers)} customers ({pct(c.figures.share, 0)}) · revenue {pct(c.figures.revenue_share, 0)}
                </p>
                <dl class="kv tight">
                  {Object.entries(c.centroid).slice(0, 8).map(([k, v]) => (
                    <div key={k}>
                      <dt>{label(k)}</dt>
                      <dd>{num(v, 2)}</dd>
                    </div>
                  ))}
                </dl>
              </article>
            ))}
          </div>
        )}
      </Section>
    </div>
  );
}

function FigureTable({ rows }: { rows: Record<string, Figures> | undefined }) {
  const entries = Object.entries(rows ?? {}).sort((a, b) => b[1].subscribers - a[1].subscribers);
  if (entries.length === 0) return <Empty title="No segments defined." />;
  return (
    <table class="plain">
      <thead>
        <tr>
          <th scope="col">Segment</th>
          <th scope="col" class="wide">Customers</th>
          <th scope="col" class="num">Revenue</th>
          <th scope="col" class="num">Margin / month</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([name, f]) => (
          <tr key={name}>
            <th scope="row">{label(name)}</th>
            <td>
              <Bar value={f.share} max={1} title={`${pct(f.share)} of subscribers`} />
              <span class="small">
                {big(f.subscribers)} ({pct(f.share, 0)})
              </span>
            </td>
            <td class="num">{pct(f.revenue_share, 0)}</td>
            <td class="num">{money(f.margin)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
