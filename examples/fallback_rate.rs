//! How often ordinary data needs the exact path (a second pass over the values: the kernel could
//! not certify its sum exact and its error bound straddles a rounding boundary), and how often
//! the kernel certified its sum exact: cargo run --release --example fallback_rate
use mean::kernels::{Level, Order, sum_f32_split_at, sum_f64_at};
use mean::{takes_exact_path_f32, takes_exact_path_f64};

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
            let (mut unsure32, mut unsure64, mut exact32, mut exact64) = (0, 0, 0, 0);
            for _ in 0..trials {
                let xs: Vec<f64> = (0..n).map(|_| if kind == "normal" { rng.normal() } else { rng.unit() }).collect();
                let ys: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
                let level = Level::selected();
                exact32 += usize::from(sum_f32_split_at(level, &ys, Order::Forward).0.error == 0.0);
                exact64 += usize::from(sum_f64_at(Level::selected(), &xs, Order::Forward).error == 0.0);
                unsure32 += usize::from(takes_exact_path_f32(&ys, level));
                unsure64 += usize::from(takes_exact_path_f64(&xs, level));
            }
            println!(
                "n={n:>9} {kind:>8}: exact path taken: float32 {unsure32}/{trials}, float64 {unsure64}/{trials}; \
                 sum certified exact: float32 {exact32}/{trials}, float64 {exact64}/{trials}"
            );
        }
    }
}
