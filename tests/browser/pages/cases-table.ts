// The table of acceptance cases a test page shows (for its screenshot): one row per case run so far.
export interface CaseRow {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export function renderCases(summary: string, results: readonly CaseRow[]): void {
  document.getElementById('summary')!.textContent = summary;
  const rows = results.map((r) => {
    const tr = document.createElement('tr');
    const mark = document.createElement('td');
    mark.className = r.ok ? 'ok' : 'fail';
    mark.textContent = r.ok ? '✓' : '✗';
    const name = document.createElement('td');
    name.textContent = r.name;
    if (r.error) {
      const pre = document.createElement('pre');
      pre.textContent = r.error;
      name.append(pre);
    }
    const ms = document.createElement('td');
    ms.className = 'ms';
    ms.textContent = r.ms.toFixed(0);
    tr.append(mark, name, ms);
    return tr;
  });
  document.getElementById('cases')!.replaceChildren(...rows);
}
