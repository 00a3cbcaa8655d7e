use std::time::Instant;
fn main() {
    let pat = [2f64.powi(600), -(2f64.powi(600)), 2f64.powi(-600), -(2f64.powi(-600)), 4.0, 2.5, 0.5 + 7.0 * 2f64.powi(-53)];
    let tie: Vec<f64> = pat.iter().copied().cycle().take(9_999_997).collect();
    let over: Vec<f64> = [1.7e308, -1.6e308, 1.5e308].iter().copied().cycle().take(9_999_999).collect();
    let mut s = 0x9E3779B97F4A7C15u64;
    let mut next = || { s ^= s << 13; s ^= s >> 7; s ^= s << 17; s };
    let mut wide = |range: i32| -> Vec<f64> { (0..10_000_000).map(|_| { let r = next(); let e = (r % (2 * range as u64 + 1)) as i32 - range; let sign = if next() & 1 == 0 { 1.0 } else { -1.0 }; sign * (1.0 + (next() >> 11) as f64 / (1u64 << 53) as f64) * 2f64.powi(e) }).collect() };
    let normal = wide(3);
    let w20 = wide(20);
    let w60 = wide(60);
    let cases = [("tie", &tie), ("overflow", &over), ("~normal", &normal), ("wide20", &w20), ("wide60", &w60)];
    let mut times = vec![vec![]; cases.len()];
    let mut sums = vec![];
    for _ in 0..7 {
        for (k, (_, v)) in cases.iter().enumerate() {
            let t = Instant::now(); let mut e = mean::exact::ExactSum::new(); mean::kernels::add_exact_f64(&mut e, v); times[k].push(t.elapsed().as_secs_f64());
            if sums.len() < cases.len() { sums.push(e.mean_f64()); }
        }
    }
    for (k, (name, _)) in cases.iter().enumerate() { times[k].sort_by(f64::total_cmp); println!("{name:9} exact pass median {:.2} ms  (mean {:e})", times[k][3]*1e3, sums[k]); }
    let t = Instant::now(); let m = mean::mean_f64(&tie); println!("tie mean {m} total {:.2} ms", t.elapsed().as_secs_f64()*1e3);
}
