//! How often ordinary data needs the exact path (the error bound straddles a rounding boundary,
//! or the mean is an exact tie): cargo run --release --example fallback_rate
use mean::kernels::{sum_f32, sum_f64};
use mean::rounding::{Format, Rounded, round_mean};

struct Rng(u64);
impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12; self.0 ^= self.0 << 25; self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-300), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn main() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for &(n, trials) in &[(1000usize, 20000usize), (100_000, 2000), (10_000_000, 60)] {
        for kind in ["normal", "uniform"] {
            let (mut unsure32, mut unsure64) = (0, 0);
            for _ in 0..trials {
                let xs: Vec<f64> = (0..n).map(|_| if kind == "normal" { rng.normal() } else { rng.unit() }).collect();
                let ys: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
                unsure32 += usize::from(round_mean(sum_f32(&ys), n, Format::Binary32) == Rounded::Unsure);
                unsure64 += usize::from(round_mean(sum_f64(&xs), n, Format::Binary64) == Rounded::Unsure);
            }
            println!("n={n:>9} {kind:>8}: exact path taken: float32 {unsure32}/{trials}, float64 {unsure64}/{trials}");
        }
    }
}
