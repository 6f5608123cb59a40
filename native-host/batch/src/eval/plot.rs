//! The evaluation plot as a hand-written SVG (no plotting crate): ROC curve, reliability diagram and
//! threshold sweep side by side.

use std::fmt::Write;

use super::Report;

const W: f64 = 300.0;
const PAD: f64 = 40.0;

/// One square panel with axes from 0 to 1; `f` draws inside with `(x, y)` in data units.
fn panel(svg: &mut String, index: usize, title: &str, xlabel: &str, ylabel: &str, body: &str) {
    let x0 = PAD + index as f64 * (W + 2.0 * PAD);
    let _ = write!(
        svg,
        r##"<g transform="translate({x0},{PAD})"><rect width="{W}" height="{W}" fill="none" stroke="#999"/><text x="{h}" y="-12" text-anchor="middle" font-size="14">{title}</text><text x="{h}" y="{b}" text-anchor="middle" font-size="12">{xlabel}</text><text transform="translate(-26,{h}) rotate(-90)" text-anchor="middle" font-size="12">{ylabel}</text>"##,
        h = W / 2.0,
        b = W + 30.0,
    );
    for t in [0.0, 0.5, 1.0] {
        let p = t * W;
        let _ = write!(
            svg,
            r##"<text x="{p}" y="{y}" text-anchor="middle" font-size="10">{t}</text><text x="-4" y="{q}" text-anchor="end" font-size="10">{t}</text>"##,
            y = W + 14.0,
            q = W - p + 3.0,
        );
    }
    svg.push_str(body);
    svg.push_str("</g>");
}

fn polyline(points: impl Iterator<Item = (f64, f64)>, color: &str, dash: bool) -> String {
    let pts: Vec<String> = points.map(|(x, y)| format!("{:.1},{:.1}", x * W, W - y * W)).collect();
    let dash = if dash { r#" stroke-dasharray="4 4""# } else { "" };
    format!(r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"#, pts.join(" "))
}

/// The SVG document.
pub fn svg(r: &Report) -> String {
    let width = 3.0 * (W + 2.0 * PAD);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>"#,
        h = W + 2.0 * PAD + 20.0
    );
    let diag = polyline([(0.0, 0.0), (1.0, 1.0)].into_iter(), "#bbb", true);
    let auc = r.roc_auc.map(|a| format!(" (AUC {a:.3})")).unwrap_or_default();
    let roc = format!("{diag}{}", polyline(r.roc.iter().copied(), "#1f77b4", false));
    panel(&mut svg, 0, &format!("ROC {}{auc}", r.category), "false positive rate", "true positive rate", &roc);

    let mut rel = diag.clone();
    for b in &r.calibration {
        if let (Some(m), Some(p)) = (b.mean_score(), b.positive_rate()) {
            let rad = 2.0 + (b.n as f64 / r.n.max(1) as f64).sqrt() * 10.0;
            let _ = write!(
                rel,
                r##"<circle cx="{:.1}" cy="{:.1}" r="{rad:.1}" fill="#d62728" fill-opacity="0.7"/>"##,
                m * W,
                W - p * W
            );
        }
    }
    panel(&mut svg, 1, &format!("Calibration (ECE {:.3})", r.ece), "mean score", "observed positive rate", &rel);

    let sw = &r.sweep;
    let mut body = polyline(sw.iter().map(|p| (p.threshold, p.precision)), "#1f77b4", false);
    body += &polyline(sw.iter().map(|p| (p.threshold, p.recall)), "#ff7f0e", false);
    body += &polyline(sw.iter().map(|p| (p.threshold, p.f1)), "#2ca02c", false);
    let t = r.threshold * W;
    let _ = write!(body, r##"<line x1="{t:.1}" y1="0" x2="{t:.1}" y2="{W}" stroke="#555" stroke-dasharray="2 3"/>"##);
    for (i, (name, color)) in [("precision", "#1f77b4"), ("recall", "#ff7f0e"), ("F1", "#2ca02c")].iter().enumerate() {
        let y = 16.0 + i as f64 * 14.0;
        let _ = write!(body, r#"<text x="{}" y="{y}" font-size="11" fill="{color}">{name}</text>"#, W - 64.0);
    }
    panel(&mut svg, 2, "Threshold sweep", "threshold", "value", &body);
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::super::Report;
    use super::*;

    #[test]
    fn svg_is_well_formed_enough() {
        let d = [(0.9, true), (0.6, false), (0.4, true), (0.1, false)];
        let s = svg(&Report::new("rage-bait", 0.5, &d, 10));
        assert!(s.starts_with("<svg") && s.ends_with("</svg>\n"));
        assert_eq!(s.matches("<g ").count(), 3);
        assert_eq!(s.matches("<g ").count(), s.matches("</g>").count());
        assert!(s.contains("AUC 0.750"));
    }
}
