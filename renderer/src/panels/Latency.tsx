// Latency check: LLM time to first token and TTS time to first byte against the reference
// targets (200 ms each, server-infrastructure-guide §7.3), pass or fail.

import { useState } from 'react';
import type { ApiClient, LatencyReport } from '../client.js';
import { ErrorText } from '../components/Status.js';
import { formatClock, formatMs } from '../format.js';
import { useAction } from '../hooks.js';

export function LatencyPanel({ client, canAct }: { client: ApiClient; canAct: boolean }) {
  const [report, setReport] = useState<LatencyReport | null>(null);
  const [run, state] = useAction(async () => setReport(await client.latencyCheck()));
  return (
    <>
      <section className="card" aria-labelledby="lat-h">
        <h3 id="lat-h">Is this server fast enough for a conversation?</h3>
        <p className="muted">
          Times what the iPhone waits for: the first token of an answer from Ollama, and the first
          byte of speech from each running TTS service. The first request may load a model, so it is
          shown but not judged; the verdict uses the median of three more.
        </p>
        <div className="control-row">
          <button
            type="button"
            className="primary"
            disabled={!canAct || state.busy}
            onClick={() => void run()}
          >
            {state.busy ? 'Measuring…' : 'Run latency check'}
          </button>
          {!canAct && <span className="muted small">Needs the access token.</span>}
        </div>
        <ErrorText error={state.error} />
      </section>
      {report && (
        <section className="card" aria-labelledby="lat-res-h" data-testid="latency-results">
          <h3 id="lat-res-h">Results at {formatClock(report.at)}</h3>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Measurement</th>
                  <th scope="col">Against</th>
                  <th scope="col">First request</th>
                  <th scope="col">Median</th>
                  <th scope="col">Target</th>
                  <th scope="col">Verdict</th>
                </tr>
              </thead>
              <tbody>
                {report.results.map((r) => (
                  <tr key={`${r.service}-${r.metric}`} data-testid={`latency-${r.service}`}>
                    <th scope="row">{r.label}</th>
                    <td>{r.detail ?? <span className="muted">—</span>}</td>
                    <td>{formatMs(r.coldMs)}</td>
                    <td>
                      <strong>{formatMs(r.medianMs)}</strong>
                      {r.samplesMs.length > 1 && (
                        <span className="muted small">
                          {' '}
                          ({r.samplesMs.map((x) => Math.round(x)).join(', ')})
                        </span>
                      )}
                    </td>
                    <td>&lt; {r.targetMs} ms</td>
                    <td>
                      {r.pass === null ? (
                        <span className="badge verdict-none" title={r.error ?? ''}>
                          Not measured
                        </span>
                      ) : r.pass ? (
                        <span className="badge verdict-pass">Pass</span>
                      ) : (
                        <span className="badge verdict-fail">Fail</span>
                      )}
                      {r.error && <p className="small bad-text">{r.error}</p>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </>
  );
}
