//! The trainer's command line, run as a user runs it, on small synthetic MNIST-format data.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;

use common::{write_dataset, write_gz};

const BIN: &str = env!("CARGO_BIN_EXE_trainer");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("trainer runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

struct Fixture {
    _dir: tempfile::TempDir,
    data: PathBuf,
    out: PathBuf,
    ckpt: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("mnist");
        write_dataset(&data, 400, 100);
        Self {
            data,
            out: dir.path().join("model"),
            ckpt: dir.path().join("ckpt"),
            _dir: dir,
        }
    }

    fn train(&self, extra: &[&str]) -> Output {
        self.train_holding_out(50, extra)
    }

    /// `train` on the fixture with the last `validation` training images held out.
    fn train_holding_out(&self, validation: usize, extra: &[&str]) -> Output {
        let validation = validation.to_string();
        let mut args = vec![
            "train",
            "--data",
            self.data.to_str().expect("utf-8"),
            "--out",
            self.out.to_str().expect("utf-8"),
            "--checkpoints",
            self.ckpt.to_str().expect("utf-8"),
            "--hidden",
            "32",
            "--batch",
            "50",
            "--lr",
            "0.003",
            "--validation",
            &validation,
        ];
        args.extend_from_slice(extra);
        run(&args)
    }

    fn state(&self) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(self.ckpt.join("state.json")).ok()?;
        serde_json::from_str(&text).ok()
    }
}

fn json_line(text: &str) -> serde_json::Value {
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .expect("a JSON line");
    serde_json::from_str(line).expect("valid JSON")
}

#[test]
fn train_exports_a_model_that_eval_reproduces() {
    let f = Fixture::new();
    let o = f.train(&["--epochs", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for name in [
        "card.json",
        "weights.bpk",
        "test-latents.bin",
        "latent-scatter.png",
        "reconstructions.png",
        "manifold.png",
    ] {
        assert!(f.out.join(name).exists(), "{name} missing");
    }
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.out.join("card.json")).expect("card"))
            .expect("json");
    assert_eq!(card["training"]["epochs"], 2);
    assert!(
        card["training"]["command"]
            .as_str()
            .expect("command")
            .contains("--epochs 2")
    );
    assert_eq!(card["dataset"]["files"].as_array().expect("files").len(), 4);
    // The last 50 training images were held out to choose the epoch on.
    assert_eq!(card["dataset"]["train_images"], 350);
    assert_eq!(card["training"]["validation"]["images"], 50);
    let chosen = card["training"]["validation"]["epoch"]
        .as_u64()
        .expect("epoch");
    assert!((1..=2).contains(&chosen), "{chosen}");
    let m = &card["metrics"];
    let (iw, elbo) = (
        m["iw_nll"].as_f64().expect("iw_nll"),
        m["neg_elbo"].as_f64().expect("neg_elbo"),
    );
    assert!(iw <= elbo, "iw_nll {iw} > neg_elbo {elbo}");
    assert_eq!(m["iw_samples"], 1000);
    assert_eq!(m["kl_per_dim"].as_array().expect("kl_per_dim").len(), 2);

    let o = run(&[
        "eval",
        "--data",
        f.data.to_str().expect("utf-8"),
        "--model",
        f.out.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let metrics = json_line(&stdout(&o));
    for field in ["neg_elbo", "recon", "kl", "mse", "knn5_acc"] {
        assert!(metrics[field].is_f64(), "{field} missing in {metrics}");
    }
    let (a, b) = (
        metrics["neg_elbo"].as_f64().expect("f64"),
        card["metrics"]["neg_elbo"].as_f64().expect("f64"),
    );
    assert!((a - b).abs() < 1e-3, "eval {a} vs card {b}");
    // The bars are easy: the latent means separate the digits.
    assert!(
        metrics["knn5_acc"].as_f64().expect("f64") > 0.5,
        "{metrics}"
    );
}

#[test]
fn resume_continues_from_the_checkpoint_epoch() {
    let f = Fixture::new();
    assert!(f.train(&["--epochs", "2"]).status.success());
    let before = f.state().expect("checkpoint");
    let o = f.train(&["--epochs", "3", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("resuming from"), "{}", stderr(&o));
    assert!(stderr(&o).contains("after epoch 2/3"), "{}", stderr(&o));
    let after = f.state().expect("checkpoint");
    assert_eq!(after["epochs_done"], 3);
    let history = after["history"].as_array().expect("history");
    assert_eq!(history.len(), 3);
    assert_eq!(
        history[..2],
        before["history"].as_array().expect("history")[..]
    );
    assert!(
        !stdout(&o).contains("epoch   1/"),
        "epoch 1 was trained again"
    );
}

#[test]
// The child is killed and reaped on every path but a failed `kill` itself.
#[allow(clippy::zombie_processes)]
fn resume_after_kill_9_continues_where_the_checkpoint_left_off() {
    let f = Fixture::new();
    let epochs = "400"; // far more than will run before the kill
    let mut child = Command::new(BIN)
        .args([
            "train",
            "--data",
            f.data.to_str().expect("utf-8"),
            "--out",
            f.out.to_str().expect("utf-8"),
            "--checkpoints",
            f.ckpt.to_str().expect("utf-8"),
            "--hidden",
            "32",
            "--batch",
            "50",
            "--lr",
            "0.003",
            "--validation",
            "50",
            "--epochs",
            epochs,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    let done_at_kill = loop {
        let done = f
            .state()
            .and_then(|s| s["epochs_done"].as_u64())
            .unwrap_or(0);
        if done >= 2 || start.elapsed() > Duration::from_secs(120) {
            child.kill().expect("SIGKILL"); // kill -9
            let _ = child.wait();
            assert!(done >= 2, "no checkpoint of epoch 2 appeared within 120 s");
            break done;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(!f.out.exists(), "a killed run must not export");
    // The checkpoint is whole: the last complete epoch (the killed one may have finished one
    // more epoch between our read and the kill).
    let saved = f.state().expect("a readable checkpoint after kill -9");
    let saved_done = saved["epochs_done"].as_u64().expect("epochs_done");
    assert!(
        saved_done >= done_at_kill && saved_done < 400,
        "{saved_done}"
    );

    let target = (saved_done + 2).to_string();
    let o = f.train(&["--epochs", &target, "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("after epoch {saved_done}/{target}")),
        "{}",
        stderr(&o)
    );
    let after = f.state().expect("checkpoint");
    assert_eq!(after["epochs_done"].as_u64(), Some(saved_done + 2));
    let history = after["history"].as_array().expect("history");
    assert_eq!(
        history[..saved_done as usize],
        saved["history"].as_array().expect("history")[..]
    );
    assert!(f.out.join("card.json").exists());
}

#[test]
fn a_validation_split_that_leaves_no_batch_is_refused() {
    let f = Fixture::new();
    let o = f.train_holding_out(380, &["--epochs", "1"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("after holding out 380 for validation"),
        "{}",
        stderr(&o)
    );
    assert!(!f.out.exists(), "nothing is exported");
}

#[test]
fn resume_to_fewer_epochs_than_done_is_refused() {
    let f = Fixture::new();
    assert!(f.train(&["--epochs", "2"]).status.success());
    let o = f.train(&["--epochs", "1", "--resume"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("has 2 epochs already"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn resume_with_other_settings_is_refused() {
    let f = Fixture::new();
    assert!(f.train(&["--epochs", "1"]).status.success());
    let o = f.train(&["--epochs", "2", "--resume", "--seed", "9"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--seed 0 vs 9"), "{}", stderr(&o));
}

/// Each bad input: one clear error line naming the file, exit code ≠ 0, the export untouched.
#[test]
fn bad_data_gives_one_clear_error_and_overwrites_nothing() {
    type Damage = fn(&Path);
    let cases: Vec<(&str, Damage, &str)> = vec![
        (
            "missing file",
            |d| std::fs::remove_file(d.join("t10k-labels-idx1-ubyte.gz")).expect("rm"),
            "t10k-labels-idx1-ubyte.gz: file not found",
        ),
        (
            "truncated file",
            |d| {
                let p = d.join("train-images-idx3-ubyte.gz");
                let raw = gunzip(&p);
                write_gz(&p, &raw[..raw.len() - 100]);
            },
            "train-images-idx3-ubyte.gz: truncated",
        ),
        (
            "wrong magic number",
            |d| {
                let p = d.join("t10k-images-idx3-ubyte.gz");
                let mut raw = gunzip(&p);
                raw[3] = 0x01;
                write_gz(&p, &raw);
            },
            "t10k-images-idx3-ubyte.gz: wrong magic number 0x00000801",
        ),
        (
            "counts differ",
            |d| {
                let p = d.join("train-labels-idx1-ubyte.gz");
                let mut raw = gunzip(&p);
                raw[7] -= 1;
                raw.pop();
                write_gz(&p, &raw);
            },
            "train-labels-idx1-ubyte.gz: 400 images but 399 labels",
        ),
        (
            "not 28x28",
            |d| {
                let p = d.join("train-images-idx3-ubyte.gz");
                let mut raw = gunzip(&p);
                raw[11] = 27;
                write_gz(&p, &raw);
            },
            "train-images-idx3-ubyte.gz: images are 27x28, expected 28x28",
        ),
        (
            "corrupt gzip",
            |d| {
                let p = d.join("t10k-images-idx3-ubyte.gz");
                let mut raw = std::fs::read(&p).expect("read");
                let n = raw.len();
                for b in &mut raw[n / 3..n / 3 + 8] {
                    *b ^= 0x5a;
                }
                std::fs::write(&p, raw).expect("write");
            },
            "t10k-images-idx3-ubyte.gz: corrupt gzip stream",
        ),
    ];
    for (what, damage, expected) in cases {
        let f = Fixture::new();
        std::fs::create_dir_all(&f.out).expect("mkdir");
        std::fs::write(f.out.join("card.json"), "the good model").expect("write");
        damage(&f.data);
        let o = f.train(&["--epochs", "1"]);
        assert!(!o.status.success(), "{what}: exit code 0");
        let err = stderr(&o);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{what}: one line expected, got:\n{err}");
        assert!(lines[0].starts_with("error: "), "{what}: {err}");
        assert!(
            err.contains(expected),
            "{what}: expected `{expected}` in:\n{err}"
        );
        assert_eq!(
            std::fs::read_to_string(f.out.join("card.json")).expect("read"),
            "the good model",
            "{what}: the export was touched"
        );
        assert!(!f.ckpt.exists(), "{what}: a checkpoint was written");
    }
}

#[test]
fn eval_of_a_missing_model_names_the_file() {
    let f = Fixture::new();
    let o = run(&[
        "eval",
        "--data",
        f.data.to_str().expect("utf-8"),
        "--model",
        f.out.to_str().expect("utf-8"),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("card.json"), "{}", stderr(&o));
}

fn gunzip(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("open"))
        .read_to_end(&mut out)
        .expect("gunzip");
    out
}
