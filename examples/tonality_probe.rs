//! Prints, per 0.5 s, how stationary the spectrum is (debugging aid for the music gate).
use realfft::RealFftPlanner;

fn main() {
    let path = std::env::args().nth(1).expect("usage: tonality_probe FILE.wav");
    let bytes = std::fs::read(path).unwrap();
    let at = bytes.windows(4).position(|w| w == b"data").unwrap() + 8;
    let x: Vec<f32> = bytes[at..]
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect();
    let n = 256;
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
    let hann: Vec<f32> = (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / n as f32).cos())
        .collect();
    let mut vecs: Vec<Vec<f32>> = Vec::new();
    let mut det = earshot::Detector::default();
    let mut scores = Vec::new();
    for f in x.chunks_exact(n) {
        let mut buf: Vec<f32> = f.iter().zip(&hann).map(|(a, b)| a * b).collect();
        let mut spec = fft.make_output_vec();
        fft.process(&mut buf, &mut spec).unwrap();
        let bands: Vec<f32> = (2..65)
            .step_by(3)
            .map(|k| {
                let p: f32 = (k..k + 3).map(|j| spec[j].norm_sqr()).sum();
                (p + 1e-9).ln()
            })
            .collect();
        let m = bands.iter().sum::<f32>() / bands.len() as f32;
        vecs.push(bands.iter().map(|b| b - m).collect());
        let arr: [f32; 256] = f.try_into().unwrap();
        scores.push(det.predict_f32(&arr));
    }
    let cos = |a: &[f32], b: &[f32]| {
        let d: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
        d / (na * nb + 1e-9)
    };
    let sims: Vec<f32> = (0..vecs.len())
        .map(|t| if t >= 6 { cos(&vecs[t], &vecs[t - 6]) } else { 0.0 })
        .collect();
    for (k, w) in sims.chunks(31).enumerate() {
        let mut s = w.to_vec();
        s.sort_by(|a, b| a.total_cmp(b));
        let sc: f32 = scores[k * 31..(k * 31 + w.len())].iter().sum::<f32>() / w.len() as f32;
        println!(
            "{:6.2}s  p25 {:.3}  median {:.3}  vad {:.2}",
            k as f32 * 31.0 * 256.0 / 16000.0,
            s[s.len() / 4],
            s[s.len() / 2],
            sc
        );
    }
}
