// The app's QR format ({host, port, name}) drawn as an SVG data URL (qrcode → SVG; the page's CSP
// allows data: images). Shared by the iPhone setup section and the first-run phone card.

import { useEffect, useState } from 'react';
import QRCode from 'qrcode';

/** The QR code of `text` as a data URL, or null while it is drawn (or if it cannot be). */
export function useQrDataUrl(text: string): string | null {
  const [qr, setQr] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    QRCode.toString(text, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })
      .then(
        (svg) => !cancelled && setQr(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`),
      )
      .catch(() => !cancelled && setQr(null));
    return () => {
      cancelled = true;
    };
  }, [text]);
  return qr;
}
