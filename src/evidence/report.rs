//! The printable HTML report of a bundle, in Chinese and English: what the bundle proves, what
//! it does not, and how to verify it.

use crate::claims::SegmentFlag;
use crate::manifest::Manifest;
use crate::media::clock;
use crate::seal::log::Inclusion;

use super::Excerpt;

/// Everything the report states.
pub struct Facts<'a> {
    /// The session's custody chain (and the archive's key events), in log order.
    pub custody: &'a [crate::custody::CustodyEvent],
    /// Claim flags on the excerpt's segments.
    pub claims: &'a [SegmentFlag],
    /// The session manifest.
    pub manifest: &'a Manifest,
    /// The excerpt.
    pub excerpt: &'a Excerpt,
    /// The log proof.
    pub inclusion: &'a Inclusion,
    /// Archive public key, hex.
    pub public_key: &'a str,
    /// Bundle creation time.
    pub created_at: &'a str,
    /// Requested range.
    pub from_ms: u64,
    /// Requested range.
    pub to_ms: u64,
    /// Whether the original is inside.
    pub with_recording: bool,
    /// Time attested by a time-stamping authority for the tree head, if any.
    pub tsa_time: Option<&'a str>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn flags_for(flags: &[SegmentFlag], index: u64) -> String {
    flags
        .iter()
        .filter(|f| f.segment as u64 == index)
        .map(|f| {
            format!(
                "<span class=flag>{} · {}{}</span>",
                esc(&f.flag.category),
                esc(&f.flag.words.join("、")),
                if f.flag.review {
                    " · 待复核 review"
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The custody chain in plain words, one line per event.
fn custody_list(events: &[crate::custody::CustodyEvent]) -> String {
    if events.is_empty() {
        return String::new();
    }
    let word = |e: &str| match e {
        "ingest" => "归档 archived",
        "export" => "导出 exported",
        "verify" => "在服务器上验证 verified on the server",
        "key_rotate" => "更换密钥 rotated the archive key",
        "key_revoke" => "吊销密钥 revoked a key",
        _ => "其他 other",
    };
    let items: String = events
        .iter()
        .map(|e| {
            format!(
                "<li>{} — {} — {}: {}</li>",
                esc(&e.at),
                esc(&e.by),
                word(&e.event),
                esc(&e.detail)
            )
        })
        .collect();
    format!("<h2>保管记录 · Chain of custody</h2><p>以下每一项都记录在归档日志中，并由上述树头覆盖。 Each of these is an entry of the archive's log, covered by the tree head below.</p><ol>{items}</ol>")
}

/// Colours of the claim categories, as the web page draws them.
fn category_colour(c: &str) -> &'static str {
    match c {
        "absolute_terms" => "#dc2626",
        "health_claims" => "#9333ea",
        "fake_authority" => "#ea580c",
        "pressure" => "#ca8a04",
        "after_sales" => "#0891b2",
        _ => "#6b7280",
    }
}

/// The excerpt's timeline as inline SVG (the web page's strip): speech, speech not
/// transcribed, and claims by category, over the requested range.
fn strip(f: &Facts) -> String {
    let (a, b) = (f.from_ms, f.to_ms.max(f.from_ms + 1));
    let x = |ms: u64| (ms.clamp(a, b) - a) as f64 / (b - a) as f64 * 1000.0;
    let bar = |y: u32, s: u64, e: u64, colour: &str, title: String| {
        format!(
            "<rect x=\"{:.1}\" y=\"{y}\" width=\"{:.1}\" height=\"10\" fill=\"{colour}\"><title>{}</title></rect>",
            x(s),
            (x(e) - x(s)).max(1.5),
            esc(&title)
        )
    };
    let mut svg = String::new();
    for s in &f.excerpt.segments {
        svg += &bar(
            2,
            s.start_ms,
            s.end_ms,
            "#9ca3af",
            format!("{} {}", clock(s.start_ms), s.text),
        );
    }
    for g in &f.excerpt.gaps {
        svg += &bar(
            2,
            g.start_ms,
            g.end_ms,
            "#b91c1c",
            format!("{} {}", clock(g.start_ms), crate::transcript::GAP_NOTE),
        );
    }
    for c in f.claims {
        svg += &bar(
            16,
            c.start_ms,
            c.end_ms,
            category_colour(&c.flag.category),
            format!(
                "{} {}: {}",
                clock(c.start_ms),
                c.flag.category,
                c.flag.words.join("、")
            ),
        );
    }
    format!(
        "<figure class=\"strip\"><svg viewBox=\"0 0 1000 28\" preserveAspectRatio=\"none\" width=\"100%\" height=\"56\" role=\"img\" aria-label=\"timeline\">{svg}</svg>\
<figcaption>{} – {} · <span style=\"color:#6b7280\">■</span> 语音 speech · <span style=\"color:#b91c1c\">■</span> 未转写 not transcribed · 下行 lower row: 风险宣称 claims (<span style=\"color:#dc2626\">■</span> absolute <span style=\"color:#9333ea\">■</span> health <span style=\"color:#ea580c\">■</span> authority <span style=\"color:#ca8a04\">■</span> pressure <span style=\"color:#0891b2\">■</span> after-sales)</figcaption></figure>",
        clock(a),
        clock(b)
    )
}

/// Renders the report: one self-contained HTML page.
pub fn render(f: &Facts) -> String {
    let m = f.manifest;
    let meta = |k: &str| {
        m.metadata
            .as_ref()
            .and_then(|md| crate::sidecar::field(md, k))
            .map(esc)
            .unwrap_or_else(|| "—".into())
    };
    let fp = crate::seal::hex32(f.public_key)
        .map(|k| crate::seal::keys::fingerprint(&k))
        .unwrap_or_default();
    let mut lines: Vec<(u64, String)> = f
        .excerpt
        .segments
        .iter()
        .map(|s| {
            (
                s.start_ms,
                format!(
                    "<tr><td>{}</td><td>{} – {}</td><td>{}</td><td>{}</td></tr>\n",
                    s.index,
                    clock(s.start_ms),
                    clock(s.end_ms),
                    esc(&s.text),
                    flags_for(f.claims, s.index)
                ),
            )
        })
        .collect();
    // Gaps are sealed too: the reader is told where speech was not transcribed.
    lines.extend(f.excerpt.gaps.iter().map(|g| {
        (
            g.start_ms,
            format!(
                "<tr class=\"gap\"><td>—</td><td>{} – {}</td><td><i>此处有语音未能转写 · {} ({})</i></td><td></td></tr>\n",
                clock(g.start_ms),
                clock(g.end_ms),
                crate::transcript::GAP_NOTE,
                esc(&g.reason)
            ),
        )
    }));
    lines.sort_by_key(|l| l.0);
    let rows: String = lines.into_iter().map(|l| l.1).collect();
    let claims_note = if f.claims.is_empty() {
        "<p>本片段未发现风险宣传用语。 No risky sales claims were flagged in this excerpt.</p>"
            .to_string()
    } else {
        let list: String = f
            .claims
            .iter()
            .map(|c| {
                format!(
                    "<li>{} ({}): <b>{}</b> — {}{}</li>",
                    clock(c.start_ms),
                    esc(&c.flag.category),
                    esc(&c.flag.words.join("、")),
                    esc(&c.flag.article),
                    if c.flag.review {
                        " <i>(可能属于豁免情形，需人工复核 · context suggests an exemption: review)</i>"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        format!("<h2>风险宣传用语 · Risky sales claims</h2><ul>{list}</ul><p>标注由词表 {} 自动生成，仅供参考。 Flags come from lexicon {} and are a reading aid, not a legal finding.</p>",
            esc(m.claims.as_ref().map(|c| c.lexicon.as_str()).unwrap_or("")),
            esc(m.claims.as_ref().map(|c| c.lexicon.as_str()).unwrap_or("")))
    };
    format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>直播证据包 Evidence bundle {session}</title>
<style>
body{{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#111}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #999;padding:.3rem .5rem;vertical-align:top;text-align:left}}
code{{word-break:break-all;font-size:.85em}}.flag{{background:#fde68a;padding:0 .3rem;border-radius:.2rem;font-size:.85em}}
figure.strip{{margin:.5rem 0}}figure.strip svg{{border:1px solid #999;background:#fff}}figcaption{{font-size:.8em;color:#444}}
@media print{{body{{margin:0;max-width:none}}}}
</style></head><body>
<h1>直播证据包 · Live-stream evidence bundle</h1>
<p>会话 Session <code>{session}</code> · 片段 Excerpt {from} – {to} · 生成于 Created {created}</p>
<table>
<tr><th>平台 Platform</th><td>{platform}</td><th>直播间 Room</th><td>{room}</td></tr>
<tr><th>主播 Host</th><td>{host}</td><th>开播 Started</th><td>{started}</td></tr>
<tr><th>原始录像 Original</th><td colspan=3>{name}, {size} bytes, SHA-256 <code>{rec}</code></td></tr>
<tr><th>归档时间 Archived</th><td>{ingested}</td><th>识别模型 Model</th><td>{model} (<code>{model_sha}</code>)</td></tr>
</table>
<p class="note">平台、直播间、主播与开播时间来自归档时提供的元数据文件（sidecar），原样记入已签名的清单，但未经核实。 Platform, room, host and start time come from the metadata file supplied at ingest (the sidecar): they are kept verbatim in the signed manifest, but nobody verified them.</p>
<h2>片段文字 · Excerpt</h2>
{strip}
<table><tr><th>#</th><th>时间 Time</th><th>文字 Text</th><th>标注 Flags</th></tr>
{rows}</table>
{claims}
{custody}
<h2>本证据包证明了什么 · What this bundle proves</h2>
<ol>
<li>上表每一句文字及其时间，与归档时封存的完整转写完全一致（每句都有到转写默克尔根 <code>{root}</code> 的包含证明）。<br>
Each line above, with its times, is exactly as in the full transcript sealed at ingest: each has a proof of inclusion in the transcript's Merkle root.</li>
<li>该转写根、原始录像的 SHA-256、模型及归档时间都写在会话清单中，清单由归档密钥签名（公钥指纹 <code>{fp}</code>）。<br>
That root, the original's SHA-256, the model and the archive time are in the session manifest, signed by the archive key (fingerprint above).</li>
<li>该清单位于归档日志第 {idx} 条；日志共 {log_size} 条时的树头（根 <code>{head_root}</code>，{head_time}）由同一密钥签名。任何持有此树头的人都能发现之后对日志的删除、替换或倒签。<br>
The manifest is entry {idx} of the archive's append-only log; the signed tree head of size {log_size} commits to it, so anyone holding this head can detect a later deletion, replacement or back-dating.</li>
{tsa}
<li>音频片段 clip.flac 由归档方从上述原始录像中无损截取（其 SHA-256 在签名声明中）。{rec_note}<br>
The audio clip was cut losslessly by the archive from that original; its hash is in the signed statement.</li>
</ol>
<h2>它不能证明什么 · What it does not prove</h2>
<ul>
<li>语音识别可能有错：请以音频为准。 Speech recognition can be wrong: the audio is the evidence, the text a guide.</li>
<li>不能证明说话人是谁，也不能证明录像本身未在归档前被剪辑。 It does not prove who spoke, nor that the recording was unedited before it was archived.</li>
<li>时间为归档方时钟所记；未附可信时间戳时，时间仅为归档方声明。 Times are as the archive's clock recorded them; without a trusted timestamp token they are the archive's claim.</li>
<li>公钥属于谁需要另行确认：请与归档方公布的公钥指纹核对。 That the key belongs to the archive operator must be checked separately: compare the fingerprint with the one they publish.</li>
</ul>
<h2>如何验证 · How to verify</h2>
<p>离线运行 Run offline: <code>liveproof verify bundle.zip --key {pk}</code>，如有原始录像 add <code>--recording ORIGINAL</code> to re-hash it and check the clip's samples against it. 每一项检查都会列出结果；任何被改动的字节都会导致验证失败。 Every check is listed; any changed byte makes verification fail.</p>
<p>不必使用 liveproof：证据包格式已公开（liveproof 源码中的 <code>docs/evidence-format.md</code>），任何人都可按其独立实现验证；源码中附有一个独立的 Python 验证程序 <code>verifiers/python/lpverify.py</code>。 You need not use liveproof: the bundle format is published (<code>docs/evidence-format.md</code> in liveproof's source), so anyone can write their own verifier from it; an independent one in Python ships with the source: <code>python3 lpverify.py bundle.zip --key {pk}</code>.</p>
<p>只有由您信任的密钥签名时，证据包才算通过验证：请将以下指纹与归档方公布的指纹核对。 A bundle counts as verified only when signed by a key you trust: compare this fingerprint with the one the archive publishes.</p>
<p>公钥 Public key (ed25519): <code>{pk}</code><br>指纹 Fingerprint: <code>{fp}</code></p>
</body></html>
"#,
        session = esc(&m.session),
        from = clock(f.from_ms),
        to = clock(f.to_ms),
        created = esc(f.created_at),
        platform = meta("platform"),
        room = meta("room"),
        host = meta("host"),
        started = meta("started_at"),
        name = esc(&m.original_name),
        size = m.recording_size,
        rec = esc(&m.recording_sha256),
        ingested = esc(&m.ingested_at),
        model = esc(&m.model),
        model_sha = esc(&m.model_sha256),
        rows = rows,
        strip = strip(f),
        claims = claims_note,
        custody = custody_list(f.custody),
        root = esc(&f.excerpt.transcript_root),
        fp = fp,
        idx = f.inclusion.index,
        log_size = f.inclusion.tree_head.size,
        head_root = esc(&f.inclusion.tree_head.root),
        head_time = esc(&f.inclusion.tree_head.timestamp),
        rec_note = if f.with_recording {
            "原始录像也在包内，可重新计算其哈希。 The original is included and can be re-hashed."
        } else {
            "原始录像不在包内；如需核对，请向归档方或平台索取原件并用 --recording 校验。 The original is not included: obtain it and check it with --recording."
        },
        pk = esc(f.public_key),
        tsa = match f.tsa_time {
            Some(t) => format!("<li>可信时间戳机构（RFC 3161）证明该树头最迟存在于 {0}（timestamp.tsr，证书 tsa.pem）。<br>A time-stamping authority (RFC 3161) attests that this tree head existed by {0} (timestamp.tsr, certificate tsa.pem).</li>", esc(t)),
            None => String::new(),
        },
    )
}
