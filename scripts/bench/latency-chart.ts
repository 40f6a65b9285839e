import type { LatencySummary } from './load.js';

export interface ChartSeries {
  label: string;
  color: string;
  latency: LatencySummary;
}

const PERCENTILES: { key: keyof LatencySummary; label: string }[] = [
  { key: 'p50', label: 'p50' },
  { key: 'p90', label: 'p90' },
  { key: 'p99', label: 'p99' },
  { key: 'p999', label: 'p99.9' },
];

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Grouped bars, one group per percentile and one bar per series, with the p99 target drawn as
 * a dashed line. Plain SVG written by hand: no charting dependency for one picture.
 */
export function latencyChartSvg(
  title: string,
  series: ChartSeries[],
  targetMs: number | undefined,
): string {
  const width = 760;
  const height = 400;
  const margin = { top: 48, right: 24, bottom: 84, left: 56 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const values = series
    .flatMap((entry) => PERCENTILES.map(({ key }) => entry.latency[key]))
    .filter((value) => Number.isFinite(value) && value > 0);
  // A log scale: p50s of a few ms and p99.9s of hundreds both stay readable.
  const minPower = Math.floor(Math.log10(Math.min(...values, targetMs ?? Infinity, 1)));
  const maxPower = Math.ceil(Math.log10(Math.max(...values, targetMs ?? 0, 1)));
  const y = (value: number): number =>
    margin.top +
    plotHeight *
      (1 - (Math.log10(Math.max(value, 10 ** minPower)) - minPower) / (maxPower - minPower));

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let power = minPower; power <= maxPower; power++) {
    for (const step of power === maxPower ? [1] : [1, 2, 5]) {
      const value = step * 10 ** power;
      const tickY = y(value);
      parts.push(
        `<line x1="${margin.left}" x2="${width - margin.right}" y1="${tickY}" y2="${tickY}" stroke="${step === 1 ? '#d0d0d0' : '#eeeeee'}"/>`,
        `<text x="${margin.left - 6}" y="${tickY + 4}" text-anchor="end" fill="#444">${Number(value.toPrecision(1))}</text>`,
      );
    }
  }
  parts.push(
    `<text x="16" y="${margin.top + plotHeight / 2}" transform="rotate(-90 16 ${margin.top + plotHeight / 2})" text-anchor="middle" fill="#444">latency (ms, log scale)</text>`,
  );

  const groupWidth = plotWidth / PERCENTILES.length;
  const barWidth = (groupWidth * 0.8) / series.length;
  PERCENTILES.forEach(({ key, label }, group) => {
    const groupX = margin.left + group * groupWidth + groupWidth * 0.1;
    series.forEach((entry, index) => {
      const value = entry.latency[key];
      if (!Number.isFinite(value)) return;
      const x = groupX + index * barWidth;
      const top = y(value);
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(margin.top + plotHeight - top).toFixed(1)}" fill="${entry.color}"><title>${escapeXml(`${entry.label} ${label}: ${value.toFixed(2)} ms`)}</title></rect>`,
        `<text x="${(x + (barWidth - 2) / 2).toFixed(1)}" y="${(top - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#222">${value.toFixed(value < 10 ? 2 : 1)}</text>`,
      );
    });
    parts.push(
      `<text x="${margin.left + group * groupWidth + groupWidth / 2}" y="${margin.top + plotHeight + 18}" text-anchor="middle" font-weight="bold">${label}</text>`,
    );
  });
  parts.push(
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight}" stroke="#444"/>`,
  );
  if (targetMs !== undefined) {
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(targetMs)}" y2="${y(targetMs)}" stroke="#c0392b" stroke-dasharray="6 4"/>`,
    );
  }

  const legendY = height - 30;
  const legendItemWidth = plotWidth / (series.length + (targetMs === undefined ? 0 : 1));
  series.forEach((entry, index) => {
    const x = margin.left + index * legendItemWidth;
    parts.push(
      `<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${entry.color}"/>`,
      `<text x="${x + 18}" y="${legendY}" fill="#222">${escapeXml(entry.label)}</text>`,
    );
  });
  if (targetMs !== undefined) {
    const x = margin.left + series.length * legendItemWidth;
    parts.push(
      `<line x1="${x}" x2="${x + 14}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="#c0392b" stroke-dasharray="4 3" stroke-width="2"/>`,
      `<text x="${x + 18}" y="${legendY}" fill="#222">p99 target ${targetMs} ms</text>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
