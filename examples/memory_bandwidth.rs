//! How fast one core reads memory it has not cached, alone and with every core reading at once:
//! the floor under Whisper's decoder, which reads all of its weights (~115 MB for base) for
//! every token (BENCHMARKS.md, "Where the floor is").
//! Usage: memory_bandwidth [MIB] [THREADS]  (256 MiB per thread, 1 and then 2 threads)
use std::time::Instant;

/// Sums a buffer of `mib` MiB four times; returns the best GB/s.
fn read_rate(mib: usize) -> f64 {
    let words = mib << 17; // u64 words
    let buf: Vec<u64> = (0..words as u64).collect();
    let mut best = 0f64;
    for _ in 0..4 {
        let clock = Instant::now();
        // Four independent sums so the adds do not chain.
        let (mut a, mut b, mut c, mut d) = (0u64, 0u64, 0u64, 0u64);
        for w in buf.chunks_exact(4) {
            a = a.wrapping_add(w[0]);
            b = b.wrapping_add(w[1]);
            c = c.wrapping_add(w[2]);
            d = d.wrapping_add(w[3]);
        }
        std::hint::black_box(a ^ b ^ c ^ d);
        let secs = clock.elapsed().as_secs_f64();
        best = best.max((words * 8) as f64 / secs / 1e9);
    }
    best
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().map_or(256, |s| s.parse().expect("MiB"));
    let most: usize = args.next().map_or(2, |s| s.parse().expect("threads"));
    for threads in [1, most] {
        let rates: Vec<f64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| s.spawn(move || read_rate(mib)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let per: Vec<String> = rates.iter().map(|r| format!("{r:.1}")).collect();
        println!(
            "{threads} thread(s) reading at once: {} GB/s each",
            per.join(", ")
        );
    }
}
