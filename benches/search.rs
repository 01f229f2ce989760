//! Search benchmark: liveproof's tantivy index vs SQLite FTS5 (trigram tokenizer), side by side
//! on the same generated segments and the same 50 queries, in one run.
//!
//! Run: `bash scripts/bench-search.sh` (or `cargo bench --bench search -- --segments 1000000`);
//! the capacity run (issue 21): `-- --segments 10000000 --reps 3 --no-fts --splits 10`.
//! The segments are generated from templates of Chinese and English live-commerce sales talk
//! with a fixed seed (see `Gen`), so every run indexes the same text.

use std::path::Path;
use std::time::{Duration, Instant};

use liveproof::manifest::{AudioInfo, Manifest};
use liveproof::search::{self, schema, Request, Sort};
use liveproof::transcript::{Segment, Transcript};
use rusqlite::params;

/// Deterministic xorshift generator.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
    fn num(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

const ZH_PRODUCTS: &[&str] = &[
    "口红",
    "面霜",
    "精华液",
    "洗面奶",
    "防晒霜",
    "粉底液",
    "眼霜",
    "面膜",
    "卷发棒",
    "吹风机",
    "榴莲",
    "车厘子",
    "苹果",
    "牛排",
    "螺蛳粉",
    "蜂蜜",
    "羽绒服",
    "运动鞋",
    "保温杯",
    "扫地机器人",
    "空气炸锅",
    "蛋白粉",
    "维生素",
    "奶粉",
    "纸尿裤",
    "洗衣液",
    "床垫",
    "手机壳",
    "耳机",
    "电饭煲",
];
const ZH_OPENERS: &[&str] = &[
    "家人们",
    "宝宝们",
    "姐妹们",
    "来来来",
    "新进来的朋友",
    "直播间的家人们",
    "老铁们",
    "各位亲",
];
const ZH_CLAIMS: &[&str] = &[
    "这是全网最低价",
    "真的是史上最好用的",
    "国家级认证的品质",
    "拿过诺贝尔奖的配方",
    "专家推荐的",
    "用了就能治疗失眠",
    "可以降血压",
    "七天无理由退换",
    "假一赔十",
    "最后三件了",
    "仅限今天",
    "限时秒杀",
    "第一次来的点点关注",
    "买二送一",
    "包邮到家",
    "品质绝对有保障",
    "今天给大家破价",
    "比超市便宜一半",
    "老板不在偷偷上链接",
    "库存不多了抓紧拍",
    "顶级的原料",
    "效果立竿见影",
];
const ZH_FILLERS: &[&str] = &[
    "我们看一下",
    "给大家展示一下",
    "大家可以看到",
    "点击下方小黄车",
    "三号链接",
    "主播自己也在用",
    "质地非常细腻",
    "颜色特别显白",
    "口感特别好",
    "个头非常大",
    "发货很快",
    "有问题随时找客服",
    "今天的福利",
    "赶紧去拍",
    "没有抢到的不要着急",
    "我们马上补货",
];
const EN_PRODUCTS: &[&str] = &[
    "lipstick",
    "face cream",
    "serum",
    "curling iron",
    "hair dryer",
    "durian",
    "cherries",
    "protein powder",
    "air fryer",
    "sneakers",
    "vacuum",
    "headphones",
    "vitamins",
    "moisturizer",
    "sunscreen",
];
const EN_LINES: &[&str] = &[
    "guys this is the lowest price ever",
    "it won a Nobel prize in cosmetics",
    "only three left",
    "today only",
    "it cures insomnia",
    "free shipping for everyone",
    "full refund if you are not happy",
    "doctors recommend it",
    "the best product on the market",
    "click the link below",
    "look at the texture",
    "we are restocking right now",
    "add it to your cart",
    "limited time flash sale",
    "this is what I use every day",
    "seven day no questions asked returns",
];
const PLATFORMS: &[&str] = &["douyin", "kuaishou", "taobao", "xiaohongshu"];

fn sentence(g: &mut Gen) -> (String, &'static str) {
    if g.num(1, 10) <= 8 {
        let mut s = String::new();
        s.push_str(g.pick(ZH_OPENERS));
        s.push('，');
        s.push_str(&format!("这款{}", g.pick(ZH_PRODUCTS)));
        s.push('，');
        s.push_str(g.pick(ZH_FILLERS));
        s.push('，');
        if g.num(1, 3) == 1 {
            s.push_str(g.pick(ZH_CLAIMS));
            s.push('，');
        }
        s.push_str(&format!("只要{}块钱", g.num(9, 999)));
        s.push('。');
        (s, "zh")
    } else {
        let s = format!(
            "{} {}, {}, only {} dollars",
            if g.num(0, 1) == 0 {
                "Okay everyone, this"
            } else {
                "Friends, our"
            },
            g.pick(EN_PRODUCTS),
            g.pick(EN_LINES),
            g.num(5, 99)
        );
        (s, "en")
    }
}

fn session(g: &mut Gen, i: usize, per: usize) -> (Manifest, Transcript) {
    let id = format!("{:016x}", (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let platform = PLATFORMS[i % PLATFORMS.len()];
    let day = 1 + (i % 28);
    let month = 1 + (i / 28) % 12;
    let started = format!("2026-{month:02}-{day:02}T20:00:00+08:00");
    let mut meta = serde_json::Map::new();
    meta.insert("platform".into(), platform.into());
    meta.insert("room".into(), format!("room-{}", i % 200).into());
    meta.insert("host".into(), format!("host-{}", i % 150).into());
    meta.insert("started_at".into(), started.clone().into());
    let segments: Vec<Segment> = (0..per)
        .map(|k| {
            let (text, lang) = sentence(g);
            Segment {
                index: k,
                start_ms: k as u64 * 4000,
                end_ms: k as u64 * 4000 + 3800,
                raw_text: text.clone(),
                text,
                language: lang.into(),
                confidence: 0.9,
            }
        })
        .collect();
    let t = Transcript {
        format: liveproof::transcript::FORMAT.into(),
        session: id.clone(),
        recording_sha256: format!("{id}{id}{id}{id}"),
        language: "zh".into(),
        model: "base".into(),
        segments,
        gaps: vec![],
    };
    let m = Manifest {
        format: liveproof::manifest::FORMAT.into(),
        session: id.clone(),
        recording_sha256: t.recording_sha256.clone(),
        recording_size: 0,
        original_name: format!("{id}.flv"),
        audio: AudioInfo {
            container: "flv".into(),
            codec: "aac".into(),
            sample_rate: 44100,
            channels: 2,
        },
        duration_ms: per as u64 * 4000,
        language: "zh".into(),
        segment_count: per,
        gap_count: 0,
        transcript_sha256: String::new(),
        transcript_root: String::new(),
        model: "base".into(),
        model_sha256: String::new(),
        software: "bench".into(),
        whisper_version: String::new(),
        ingested_at: started,
        metadata: Some(meta),
        decode_warnings: vec![],
        claims: None,
        labels: vec![],
        c2pa: None,
        tags: vec![],
        transcription: None,
        comments: None,
    };
    (m, t)
}

/// A benchmark query: the liveproof form, the FTS5 form, and an optional platform filter.
struct Q {
    lp: &'static str,
    fts: &'static str,
    platform: Option<&'static str>,
}

/// 50 queries: single words (zh, en), phrases, boolean combinations, filters. For FTS5 a
/// term shorter than 3 characters cannot use the trigram index, so it becomes LIKE (a scan):
/// that is FTS5-trigram's own limit, measured as is.
const QUERIES: &[Q] = &[
    Q {
        lp: "口红",
        fts: "LIKE:口红",
        platform: None,
    },
    Q {
        lp: "面霜",
        fts: "LIKE:面霜",
        platform: None,
    },
    Q {
        lp: "榴莲",
        fts: "LIKE:榴莲",
        platform: None,
    },
    Q {
        lp: "卷发棒",
        fts: "\"卷发棒\"",
        platform: None,
    },
    Q {
        lp: "诺贝尔",
        fts: "\"诺贝尔\"",
        platform: None,
    },
    Q {
        lp: "全网最低价",
        fts: "\"全网最低价\"",
        platform: None,
    },
    Q {
        lp: "最后三件",
        fts: "\"最后三件\"",
        platform: None,
    },
    Q {
        lp: "假一赔十",
        fts: "\"假一赔十\"",
        platform: None,
    },
    Q {
        lp: "七天无理由",
        fts: "\"七天无理由\"",
        platform: None,
    },
    Q {
        lp: "治疗失眠",
        fts: "\"治疗失眠\"",
        platform: None,
    },
    Q {
        lp: "降血压",
        fts: "\"降血压\"",
        platform: None,
    },
    Q {
        lp: "国家级",
        fts: "\"国家级\"",
        platform: None,
    },
    Q {
        lp: "专家推荐",
        fts: "\"专家推荐\"",
        platform: None,
    },
    Q {
        lp: "限时秒杀",
        fts: "\"限时秒杀\"",
        platform: None,
    },
    Q {
        lp: "螺蛳粉",
        fts: "\"螺蛳粉\"",
        platform: None,
    },
    Q {
        lp: "扫地机器人",
        fts: "\"扫地机器人\"",
        platform: None,
    },
    Q {
        lp: "空气炸锅",
        fts: "\"空气炸锅\"",
        platform: None,
    },
    Q {
        lp: "蛋白粉",
        fts: "\"蛋白粉\"",
        platform: None,
    },
    Q {
        lp: "小黄车",
        fts: "\"小黄车\"",
        platform: None,
    },
    Q {
        lp: "补货",
        fts: "LIKE:补货",
        platform: None,
    },
    Q {
        lp: "lipstick",
        fts: "\"lipstick\"",
        platform: None,
    },
    Q {
        lp: "insomnia",
        fts: "\"insomnia\"",
        platform: None,
    },
    Q {
        lp: "refund",
        fts: "\"refund\"",
        platform: None,
    },
    Q {
        lp: "nobel",
        fts: "\"nobel\"",
        platform: None,
    },
    Q {
        lp: "shipping",
        fts: "\"shipping\"",
        platform: None,
    },
    Q {
        lp: "\"lowest price\"",
        fts: "\"lowest price\"",
        platform: None,
    },
    Q {
        lp: "\"flash sale\"",
        fts: "\"flash sale\"",
        platform: None,
    },
    Q {
        lp: "\"only three left\"",
        fts: "\"only three left\"",
        platform: None,
    },
    Q {
        lp: "\"doctors recommend\"",
        fts: "\"doctors recommend\"",
        platform: None,
    },
    Q {
        lp: "\"curling iron\"",
        fts: "\"curling iron\"",
        platform: None,
    },
    Q {
        lp: "诺贝尔 OR nobel",
        fts: "\"诺贝尔\" OR \"nobel\"",
        platform: None,
    },
    Q {
        lp: "治疗失眠 OR insomnia",
        fts: "\"治疗失眠\" OR \"insomnia\"",
        platform: None,
    },
    Q {
        lp: "全网最低价 卷发棒",
        fts: "\"全网最低价\" AND \"卷发棒\"",
        platform: None,
    },
    Q {
        lp: "假一赔十 螺蛳粉",
        fts: "\"假一赔十\" AND \"螺蛳粉\"",
        platform: None,
    },
    Q {
        lp: "七天无理由 -羽绒服",
        fts: "\"七天无理由\" NOT \"羽绒服\"",
        platform: None,
    },
    Q {
        lp: "refund lipstick",
        fts: "\"refund\" AND \"lipstick\"",
        platform: None,
    },
    Q {
        lp: "\"best product\" -vacuum",
        fts: "\"best product\" NOT \"vacuum\"",
        platform: None,
    },
    Q {
        lp: "降血压 OR 治疗失眠 OR cures",
        fts: "\"降血压\" OR \"治疗失眠\" OR \"cures\"",
        platform: None,
    },
    Q {
        lp: "顶级 原料",
        fts: "\"顶级的原料\"",
        platform: None,
    },
    Q {
        lp: "国家级 认证",
        fts: "\"国家级认证\"",
        platform: None,
    },
    Q {
        lp: "诺贝尔",
        fts: "\"诺贝尔\"",
        platform: Some("douyin"),
    },
    Q {
        lp: "全网最低价",
        fts: "\"全网最低价\"",
        platform: Some("kuaishou"),
    },
    Q {
        lp: "假一赔十",
        fts: "\"假一赔十\"",
        platform: Some("taobao"),
    },
    Q {
        lp: "insomnia",
        fts: "\"insomnia\"",
        platform: Some("xiaohongshu"),
    },
    Q {
        lp: "\"lowest price\"",
        fts: "\"lowest price\"",
        platform: Some("douyin"),
    },
    Q {
        lp: "七天无理由",
        fts: "\"七天无理由\"",
        platform: Some("douyin"),
    },
    Q {
        lp: "卷发棒 OR \"curling iron\"",
        fts: "\"卷发棒\" OR \"curling iron\"",
        platform: Some("kuaishou"),
    },
    Q {
        lp: "降血压",
        fts: "\"降血压\"",
        platform: Some("taobao"),
    },
    Q {
        lp: "口红",
        fts: "LIKE:口红",
        platform: Some("xiaohongshu"),
    },
    Q {
        lp: "榴莲",
        fts: "LIKE:榴莲",
        platform: Some("douyin"),
    },
];

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let m = e.metadata().unwrap();
                    if m.is_dir() {
                        dir_size(&e.path())
                    } else {
                        m.len()
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn percentile(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

fn main() {
    let mut segments_total = 1_000_000usize;
    let mut reps = 5usize;
    let mut fts = true;
    let mut splits = 0usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--segments" => segments_total = args.next().and_then(|v| v.parse().ok()).unwrap(),
            "--reps" => reps = args.next().and_then(|v| v.parse().ok()).unwrap(),
            // --no-fts: liveproof alone (the 10 M capacity run); --splits K: also K indexes of
            // consecutive sessions (split by time) queried by fan-out, merged.
            "--no-fts" => fts = false,
            "--splits" => splits = args.next().and_then(|v| v.parse().ok()).unwrap(),
            _ => {} // cargo bench passes --bench
        }
    }
    let per = 1000usize.min(segments_total);
    let n_sessions = segments_total / per;
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    println!(
        "# search benchmark: {} segments ({} sessions x {}), {} reps of 50 queries",
        n_sessions * per,
        n_sessions,
        per,
        reps
    );

    // --- liveproof / tantivy ---
    let dir = search::index_dir(&data);
    std::fs::create_dir_all(&dir).unwrap();
    let (schema, fields) = schema::build();
    let index = tantivy::Index::create_in_dir(&dir, schema).unwrap();
    index
        .tokenizers()
        .register(search::analyzer::NAME, search::analyzer::analyzer());
    let mut w: tantivy::IndexWriter = index.writer_with_num_threads(2, 1_000_000_000).unwrap();
    let mut g = Gen(0x5EED_1234_ABCD_0001);
    let t0 = Instant::now();
    for i in 0..n_sessions {
        let (m, t) = session(&mut g, i, per);
        search::add_session(&w, &fields, &m, &t, &[]).unwrap();
    }
    w.commit().unwrap();
    w.wait_merging_threads().unwrap();
    let lp_index_s = t0.elapsed().as_secs_f64();
    let lp_size = dir_size(&dir);

    if !fts {
        let (lp_index_s, lp_size) = (lp_index_s, lp_size);
        return liveproof_only(
            &data,
            work.path(),
            n_sessions,
            per,
            reps,
            splits,
            lp_index_s,
            lp_size,
        );
    }
    // --- SQLite FTS5 trigram, same segments ---
    let db_path = work.path().join("fts.sqlite");
    let mut db = rusqlite::Connection::open(&db_path).unwrap();
    db.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; CREATE VIRTUAL TABLE seg USING fts5(text, session UNINDEXED, platform UNINDEXED, start_ms UNINDEXED, tokenize='trigram');").unwrap();
    let mut g = Gen(0x5EED_1234_ABCD_0001);
    let t0 = Instant::now();
    {
        let tx = db.transaction().unwrap();
        {
            let mut ins = tx
                .prepare(
                    "INSERT INTO seg(text, session, platform, start_ms) VALUES (?1, ?2, ?3, ?4)",
                )
                .unwrap();
            for i in 0..n_sessions {
                let (m, t) = session(&mut g, i, per);
                let platform = m.metadata.as_ref().unwrap()["platform"]
                    .as_str()
                    .unwrap()
                    .to_string();
                for s in &t.segments {
                    ins.execute(params![s.text, m.session, platform, s.start_ms as i64])
                        .unwrap();
                }
            }
        }
        tx.commit().unwrap();
    }
    db.execute_batch("INSERT INTO seg(seg) VALUES('optimize');")
        .unwrap();
    let fts_index_s = t0.elapsed().as_secs_f64();
    let fts_size = std::fs::metadata(&db_path).unwrap().len();

    // --- queries (both sides keep their index open, as a server would) ---
    let lp = search::Searcher::open(&data).unwrap().unwrap();
    let mut lp_lat = Vec::new();
    let mut fts_lat = Vec::new();
    let mut totals = Vec::new();
    for rep in 0..=reps {
        for q in QUERIES {
            let req = top20(q);
            let t = Instant::now();
            let r = lp.search(&req).unwrap();
            let lp_d = t.elapsed();

            let t = Instant::now();
            let (where_, arg) = match q.fts.strip_prefix("LIKE:") {
                Some(w) => ("text LIKE ?1", format!("%{w}%")),
                None => ("seg MATCH ?1", q.fts.to_string()),
            };
            let filter = q
                .platform
                .map(|p| format!(" AND platform = '{p}'"))
                .unwrap_or_default();
            let order = if where_.starts_with("seg MATCH") {
                "ORDER BY rank"
            } else {
                ""
            };
            let mut stmt = db
                .prepare_cached(&format!("SELECT session, start_ms, snippet(seg, 0, '<b>', '</b>', '…', 16) FROM seg WHERE {where_}{filter} {order} LIMIT 20"))
                .unwrap();
            let rows: Vec<(String, i64, String)> = stmt
                .query_map(params![arg], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let count: i64 = db
                .prepare_cached(&format!("SELECT count(*) FROM seg WHERE {where_}{filter}"))
                .unwrap()
                .query_row(params![arg], |r| r.get(0))
                .unwrap();
            let fts_d = t.elapsed();
            std::hint::black_box(&rows);
            if rep == 0 {
                totals.push((q.lp, r.total, count));
                continue; // warm-up round
            }
            lp_lat.push(lp_d);
            fts_lat.push(fts_d);
        }
    }
    let segs = (n_sessions * per) as f64;
    println!();
    println!("| measure | liveproof (tantivy + jieba) | SQLite FTS5 (trigram) | ratio (FTS5 / liveproof) |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| bulk indexing rate (segments/s) | {:.0} | {:.0} | {:.2} |",
        segs / lp_index_s,
        segs / fts_index_s,
        (segs / fts_index_s) / (segs / lp_index_s)
    );
    println!(
        "| indexing time (s) | {:.1} | {:.1} | {:.2} |",
        lp_index_s,
        fts_index_s,
        fts_index_s / lp_index_s
    );
    println!(
        "| index size (MB) | {:.1} | {:.1} | {:.2} |",
        lp_size as f64 / 1e6,
        fts_size as f64 / 1e6,
        fts_size as f64 / lp_size as f64
    );
    let (lp50, lp99) = (percentile(&mut lp_lat, 0.5), percentile(&mut lp_lat, 0.99));
    let (f50, f99) = (
        percentile(&mut fts_lat, 0.5),
        percentile(&mut fts_lat, 0.99),
    );
    println!(
        "| query latency p50 (ms) | {lp50:.2} | {f50:.2} | {:.2} |",
        f50 / lp50
    );
    println!(
        "| query latency p99 (ms) | {lp99:.2} | {f99:.2} | {:.2} |",
        f99 / lp99
    );
    println!();
    println!("Matches per query (liveproof / FTS5), first round:");
    for (q, a, b) in totals {
        println!("- `{q}`: {a} / {b}");
    }
}

/// A query's top 20 by relevance, as both runs ask it.
fn top20(q: &Q) -> Request {
    Request {
        query: q.lp.into(),
        limit: 20,
        platform: q.platform.map(str::to_string),
        sort: Sort::Relevance,
        ..Default::default()
    }
}

/// The capacity run: liveproof's single index at this size, and the same segments in `splits`
/// indexes of consecutive sessions queried by fan-out (threads, one per split), merged: top 20
/// by score, totals summed.
#[allow(clippy::too_many_arguments)]
fn liveproof_only(
    data: &Path,
    work: &Path,
    n_sessions: usize,
    per: usize,
    reps: usize,
    splits: usize,
    index_s: f64,
    size: u64,
) {
    let mut split_dirs = Vec::new();
    let mut split_index_s = 0.0;
    if splits > 0 {
        let mut g = Gen(0x5EED_1234_ABCD_0001);
        let t0 = Instant::now();
        let mut writers = Vec::new();
        for k in 0..splits {
            let d = work.join(format!("split-{k}"));
            let dir = search::index_dir(&d);
            std::fs::create_dir_all(&dir).unwrap();
            let (schema, fields) = schema::build();
            let index = tantivy::Index::create_in_dir(&dir, schema).unwrap();
            index
                .tokenizers()
                .register(search::analyzer::NAME, search::analyzer::analyzer());
            let w: tantivy::IndexWriter = index.writer_with_num_threads(1, 200_000_000).unwrap();
            writers.push((w, fields));
            split_dirs.push(d);
        }
        for i in 0..n_sessions {
            let (m, t) = session(&mut g, i, per);
            let (w, fields) = &writers[i * splits / n_sessions];
            search::add_session(w, fields, &m, &t, &[]).unwrap();
        }
        for (mut w, _) in writers {
            w.commit().unwrap();
            w.wait_merging_threads().unwrap();
        }
        split_index_s = t0.elapsed().as_secs_f64();
    }
    let one = search::Searcher::open(data).unwrap().unwrap();
    let parts: Vec<search::Searcher> = split_dirs
        .iter()
        .map(|d| search::Searcher::open(d).unwrap().unwrap())
        .collect();
    let (mut one_lat, mut fan_lat, mut same_totals, mut same_top) = (Vec::new(), Vec::new(), 0, 0);
    for rep in 0..=reps {
        for q in QUERIES {
            let req = top20(q);
            let t = Instant::now();
            let r = one.search(&req).unwrap();
            let one_d = t.elapsed();
            if parts.is_empty() {
                if rep > 0 {
                    one_lat.push(one_d);
                }
                continue;
            }
            let t = Instant::now();
            let answers: Vec<search::Results> = std::thread::scope(|s| {
                let hs: Vec<_> = parts
                    .iter()
                    .map(|p| s.spawn(|| p.search(&req).unwrap()))
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let total: usize = answers.iter().map(|a| a.total).sum();
            let mut hits: Vec<search::Hit> = answers.into_iter().flat_map(|a| a.hits).collect();
            hits.sort_by(|a, b| b.score.total_cmp(&a.score));
            hits.truncate(20);
            let fan_d = t.elapsed();
            if rep == 0 {
                same_totals += usize::from(total == r.total);
                let key = |h: &search::Hit| (h.session.clone(), h.index);
                let a: std::collections::BTreeSet<_> = r.hits.iter().map(key).collect();
                let b: std::collections::BTreeSet<_> = hits.iter().map(key).collect();
                same_top += usize::from(a == b);
                continue;
            }
            one_lat.push(one_d);
            fan_lat.push(fan_d);
        }
    }
    let segs = (n_sessions * per) as f64;
    println!();
    println!("| measure | one index | {splits} splits, fan-out |");
    println!("| --- | ---: | ---: |");
    println!("| indexing time (s) | {index_s:.1} | {split_index_s:.1} |");
    println!(
        "| bulk indexing rate (segments/s) | {:.0} | {:.0} |",
        segs / index_s,
        if split_index_s > 0.0 {
            segs / split_index_s
        } else {
            0.0
        }
    );
    println!(
        "| index size (MB) | {:.1} | {:.1} |",
        size as f64 / 1e6,
        split_dirs
            .iter()
            .map(|d| dir_size(&search::index_dir(d)))
            .sum::<u64>() as f64
            / 1e6
    );
    let (a50, a99) = (
        percentile(&mut one_lat, 0.5),
        percentile(&mut one_lat, 0.99),
    );
    let (b50, b99) = if fan_lat.is_empty() {
        (0.0, 0.0)
    } else {
        (
            percentile(&mut fan_lat, 0.5),
            percentile(&mut fan_lat, 0.99),
        )
    };
    println!("| query latency p50 (ms) | {a50:.2} | {b50:.2} |");
    println!("| query latency p99 (ms) | {a99:.2} | {b99:.2} |");
    if !parts.is_empty() {
        println!();
        println!(
            "Fan-out vs one index, {} queries: totals equal in {same_totals}; the same top-20 set in \
             {same_top} (generated text repeats, so most queries tie on thousands of equal scores \
             and any 20 of them are a correct answer; per-split BM25 statistics also differ).",
            QUERIES.len()
        );
    }
}
