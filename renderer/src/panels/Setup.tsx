// iPhone setup: what to type in the app (Settings → Self-Hosted Server), the IP as a second choice,
// and a QR code in the app's format (components/qr.ts).

import { useQrDataUrl } from '../components/qr.js';
import type { Snapshot } from '../../../main/core/contract.js';
import { LOCAL_NAME_HELP, setupAdvice } from '../setup-model.js';

export function SetupPanel({ snapshot: s }: { snapshot: Snapshot }) {
  const advice = setupAdvice(s);
  const qr = useQrDataUrl(advice.qrText);

  return (
    <>
      <section className="card" aria-labelledby="type-h">
        <h3 id="type-h">In the app: Settings → Self-Hosted Server</h3>
        <p>Type this server address:</p>
        <p className="setup-address" data-testid="setup-name">
          <code>{advice.name}</code>
        </p>
        <p className="muted">
          It always reaches the computer of the pair that serves, as the pair hands over.
        </p>
        {advice.ip && (
          <p data-testid="setup-ip">
            Or this computer's IP address: <code>{advice.ip}</code>
          </p>
        )}
        {advice.warnings.map((w) => (
          <p key={w} className="warn-text" data-testid="setup-warning">
            {w}
          </p>
        ))}
      </section>
      <section className="card" aria-labelledby="qr-h">
        <h3 id="qr-h">Or scan this QR code in the app</h3>
        {qr ? (
          <img
            className="setup-qr"
            src={qr}
            alt={`QR code for ${advice.qrText}`}
            data-testid="setup-qr"
            width={192}
            height={192}
          />
        ) : (
          <p className="muted">Drawing the QR code…</p>
        )}
        <p className="muted">
          <code>{advice.qrText}</code>
        </p>
      </section>
      <section className="card" aria-labelledby="local-h">
        <h3 id="local-h">If the phone cannot find {advice.name}</h3>
        <p>{LOCAL_NAME_HELP}</p>
      </section>
    </>
  );
}
