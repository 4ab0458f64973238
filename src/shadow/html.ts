import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { escapeHtml, scriptJson } from '../html/index.ts';
import { extreme, type ShadowReport } from './report.ts';

/**
 * The report page: one self-contained HTML file (no request leaves it) with Chart.js (pinned in
 * package.json) inlined. Plots: latency distribution per model, teacher vs student reward, the KL
 * histogram, and retention and speedup with their intervals. Charts draw without animation and set
 * `window.__chartsRendered` when done (the browser test waits for it).
 */
let chartJs: string | undefined;
function chartLibrary(): string {
  if (chartJs === undefined) {
    // The package exports only its module entries; the UMD bundle sits beside the CommonJS one.
    const path = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
    // No source map to fetch; and nothing in the library may close the inline script early.
    chartJs = readFileSync(path, 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '').replace(/<\/script/gi, '<\\/script');
  }
  return chartJs;
}


/** Bins values into `bins` equal-width buckets over [min, max] of all series together. */
export function histogram(series: Record<string, readonly number[]>, bins = 12): { labels: string[]; counts: Record<string, number[]> } {
  const all = Object.values(series).flat();
  const min = extreme(all, 'min');
  const max = extreme(all, 'max');
  const width = max > min ? (max - min) / bins : 1;
  const labels = Array.from({ length: bins }, (_, i) => `${(min + i * width).toFixed(3)}–${(min + (i + 1) * width).toFixed(3)}`);
  const counts: Record<string, number[]> = {};
  for (const [name, values] of Object.entries(series)) {
    counts[name] = new Array<number>(bins).fill(0);
    for (const v of values) counts[name]![Math.min(bins - 1, Math.floor((v - min) / width))]!++;
  }
  return { labels, counts };
}

export function reportHtml(report: ShadowReport): string {
  const d = report.details;
  const latency = histogram({ production: d.map((x) => x.latency_ms.production), teacher: d.map((x) => x.latency_ms.teacher), student: d.map((x) => x.latency_ms.student) });
  const kl = histogram({ kl: d.map((x) => x.kl_divergence) });
  const data = {
    latency,
    kl,
    rewards: d.map((x) => ({ x: x.reward.teacher, y: x.reward.student })),
    // No teacher lift: nothing to draw for retention (the verdict says why).
    retention: { value: report.summary.reward.retention_rate ?? 0, ...(report.intervals.retention_rate ?? { low: 0, high: 0 }), margin: report.verdict.margin },
    speedup: { value: report.summary.latency.speedup_ratio, ...report.intervals.speedup_ratio },
  };
  const s = report.summary;
  const v = report.verdict;
  const rows: Array<[string, string]> = [
    ['Comparisons', `${s.total_comparisons} over ${s.distinct_briefs} distinct briefs (${report.stages.join(', ')})`],
    ['Lift retention (student ÷ teacher, over the composer alone)', `${retentionText(report)} · lifts ${s.reward.teacher_lift_avg} / ${s.reward.student_lift_avg} over a baseline of ${s.reward.baseline_avg}`],
    ['Speedup (teacher ÷ student latency)', `×${s.latency.speedup_ratio} [${report.intervals.speedup_ratio.low}, ${report.intervals.speedup_ratio.high}] (ratio of means) · median ×${s.speedup.median} [${report.intervals.speedup_median.low}, ${report.intervals.speedup_median.high}]`],
    ['Mean reward: production / teacher / student', `${s.reward.production_avg} / ${s.reward.teacher_avg} / ${s.reward.student_avg}`],
    ['Latency avg (p95), ms: production / teacher / student', `${s.latency.production_avg_ms} / ${s.latency.teacher_avg_ms} (${s.latency.teacher_p95_ms}) / ${s.latency.student_avg_ms} (${s.latency.student_p95_ms})`],
    ['KL(teacher ‖ student): avg / p95', `${s.kl_divergence.avg} / ${s.kl_divergence.p95}`],
    ['Cosine similarity of the formulas (avg)', String(s.cosine_similarity.avg)],
    ['Verdict', `${v.student_non_inferior ? 'student non-inferior' : 'not shown non-inferior'}: ${v.explanation}`],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shadow evaluation — ${escapeHtml(report.generated_at)}</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #1d2330; padding: 0 1rem; }
  h1 { font-size: 1.5rem; margin-bottom: .2rem; }
  .verdict { padding: .8rem 1rem; border-radius: 6px; margin: 1rem 0; background: ${v.student_non_inferior ? '#e6f4ea' : '#fdecea'}; }
  table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
  td { border-bottom: 1px solid #e3e6ec; padding: .35rem .5rem; vertical-align: top; }
  td:first-child { color: #5b6475; width: 40%; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 1.5rem; }
  figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: .4rem; }
  canvas { width: 100%; height: 300px; }
</style>
</head>
<body>
<h1>Shadow evaluation</h1>
<div>generated ${escapeHtml(report.generated_at)} · ${report.intervals.confidence * 100} % intervals by ${escapeHtml(report.intervals.method)} (${report.intervals.resamples} resamples)${report.inputs === undefined ? '' : ` · inputs: ${report.inputs.comparisons} comparisons, Cloud Hub <code>${escapeHtml(report.inputs.cid)}</code>`}</div>
<div class="verdict">${escapeHtml(v.question)}<br><strong>${v.student_non_inferior ? 'Yes' : 'Not shown'}</strong> — ${escapeHtml(v.explanation)}${v.required_sample_size === null ? '' : ` (sample size for ${v.power * 100} % power: ${v.required_sample_size})`}</div>
<table>${rows.map(([k, val]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(val)}</td></tr>`).join('')}</table>
<div class="grid">
  <figure><figcaption>Latency distribution per model (ms)</figcaption><canvas id="latency"></canvas></figure>
  <figure><figcaption>Reward: teacher vs student, per brief</figcaption><canvas id="rewards"></canvas></figure>
  <figure><figcaption>KL(teacher ‖ student) per comparison</figcaption><canvas id="kl"></canvas></figure>
  <figure><figcaption>Retention and speedup with their ${report.intervals.confidence * 100} % intervals</figcaption><canvas id="intervals"></canvas></figure>
</div>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>${chartLibrary()}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  var colors = { production: '#7a869a', teacher: '#2f6fde', student: '#e0802b', kl: '#6b4fbb' };
  var charts = 0;
  new Chart(document.getElementById('latency'), { type: 'bar', data: { labels: data.latency.labels, datasets: ['production', 'teacher', 'student'].map(function (name) { return { label: name, data: data.latency.counts[name], backgroundColor: colors[name] }; }) }, options: { scales: { x: { title: { display: true, text: 'ms' } }, y: { title: { display: true, text: 'comparisons' } } } } }); charts++;
  var lo = Math.min.apply(null, data.rewards.map(function (p) { return Math.min(p.x, p.y); }));
  var hi = Math.max.apply(null, data.rewards.map(function (p) { return Math.max(p.x, p.y); }));
  new Chart(document.getElementById('rewards'), { type: 'scatter', data: { datasets: [ { label: 'comparisons', data: data.rewards, backgroundColor: colors.student }, { label: 'student = teacher', type: 'line', data: [{ x: lo, y: lo }, { x: hi, y: hi }], borderColor: '#9aa3b2', borderDash: [6, 4], pointRadius: 0 } ] }, options: { scales: { x: { title: { display: true, text: 'teacher reward' } }, y: { title: { display: true, text: 'student reward' } } } } }); charts++;
  new Chart(document.getElementById('kl'), { type: 'bar', data: { labels: data.kl.labels, datasets: [{ label: 'comparisons', data: data.kl.counts.kl, backgroundColor: colors.kl }] }, options: { scales: { x: { title: { display: true, text: 'KL' } } } } }); charts++;
  new Chart(document.getElementById('intervals'), { type: 'bar', data: { labels: ['retention (student ÷ teacher)', 'speedup (teacher ÷ student) ÷ 10'], datasets: [
    { label: 'interval', data: [[data.retention.low, data.retention.high], [data.speedup.low / 10, data.speedup.high / 10]], backgroundColor: 'rgba(47,111,222,0.35)', borderColor: colors.teacher, borderWidth: 1 },
    { label: 'estimate', type: 'scatter', data: [{ x: 'retention (student ÷ teacher)', y: data.retention.value }, { x: 'speedup (teacher ÷ student) ÷ 10', y: data.speedup.value / 10 }], backgroundColor: '#1d2330', pointRadius: 5 },
    { label: 'retention margin', type: 'line', data: [data.retention.margin, data.retention.margin], borderColor: '#d93025', borderDash: [6, 4], pointRadius: 0 }
  ] }, options: { scales: { y: { beginAtZero: true } } } }); charts++;
  window.__chartsRendered = charts;
})();
</script>
</body>
</html>
`;
}

/** The retention with its interval, or why there is none. */
export function retentionText(report: ShadowReport): string {
  const r = report.summary.reward.retention_rate;
  const i = report.intervals.retention_rate;
  return r === null || i === null ? 'none (the teacher adds nothing over the composer alone)' : `${r} [${i.low}, ${i.high}]`;
}
