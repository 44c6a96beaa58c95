import * as QRCode from "qrcode";
import { useMemo } from "react";

/** A QR code drawn as SVG from the module matrix: no canvas, no data: URL, nothing inline to allow in the CSP. */
export function QrCode(props: { value: string; label: string; size?: number }) {
  const { path, dimension } = useMemo(() => {
    const qr = QRCode.create(props.value, { errorCorrectionLevel: "M" });
    const n = qr.modules.size;
    const quiet = 4;
    let d = "";
    for (let row = 0; row < n; row++) {
      for (let col = 0; col < n; col++) {
        if (qr.modules.get(row, col)) d += `M${col + quiet} ${row + quiet}h1v1h-1z`;
      }
    }
    return { path: d, dimension: n + 2 * quiet };
  }, [props.value]);

  const size = props.size ?? 200;
  return (
    <svg
      className="qr"
      role="img"
      aria-label={props.label}
      width={size}
      height={size}
      viewBox={`0 0 ${dimension} ${dimension}`}
      shapeRendering="crispEdges"
    >
      <rect width={dimension} height={dimension} fill="#fff" />
      <path d={path} fill="#111" />
    </svg>
  );
}
