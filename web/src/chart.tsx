// uPlot line/area charts sized to their container.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { timeTicks } from './format';

export interface ChartProps {
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  height?: number;
  axes?: uPlot.Axis[];
  bands?: uPlot.Band[];
  scales?: uPlot.Scales;
  label: string;  // what the chart shows, for screen readers
  time?: boolean;
}

export function Chart({ data, series, height = 220, axes, bands, scales, label, time = true }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = JSON.stringify(series.map((s) => s.label)) + (bands ? bands.length : 0);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      series: [{}, ...series],
      axes: axes ?? [time ? { values: timeTicks, space: 70 } : {}, { size: 56 }],
      bands,
      scales: { x: { time }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] }, ...(scales ?? {}) },
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Re-create only when the shape changes; data updates go through setData.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div class="chart" ref={box} role="img" aria-label={label} />;
}
