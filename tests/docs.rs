//! The README names what the code defines: every setting's flag and variable (from
//! `config::Config`, the struct the CLI flattens) and every limit flag of `serve` (from its
//! `--help`). Adding a setting or a limit without documenting it fails here.

use clap::{CommandFactory, Parser};

#[derive(Parser)]
struct Settings {
    #[command(flatten)]
    config: liveproof::config::Config,
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

#[test]
fn the_readme_names_every_setting_with_its_variable() {
    let readme = readme();
    let cmd = Settings::command();
    let mut missing = Vec::new();
    for arg in cmd.get_arguments() {
        let flag = format!("--{}", arg.get_long().expect("settings are long flags"));
        let var = arg
            .get_env()
            .expect("every setting has a LIVEPROOF_ variable")
            .to_string_lossy()
            .into_owned();
        assert!(var.starts_with("LIVEPROOF_"), "{var}");
        for name in [flag, var] {
            if !readme.contains(&format!("`{name}")) {
                missing.push(name);
            }
        }
    }
    assert!(missing.is_empty(), "README.md does not mention {missing:?}");
}

#[test]
fn the_readme_limits_table_names_every_serve_limit_flag() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_liveproof"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let readme = readme();
    let limits = &readme[readme.find("### Limits").expect("a Limits section")..];
    let settings: Vec<String> = Settings::command()
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    // Flags that are not limits: where to listen, which model, and the global ones.
    let not_limits = [
        "--addr",
        "--model",
        "--timestamp-minutes",
        "--log-format",
        "--data",
        "--json",
        "--help",
    ];
    let mut missing = Vec::new();
    for word in help.split_whitespace() {
        let flag = word.trim_end_matches(',');
        if !flag.starts_with("--") || flag.contains('=') {
            continue;
        }
        let flag = flag.split('<').next().unwrap_or(flag).trim();
        if not_limits.contains(&flag) || settings.iter().any(|s| s == flag) {
            continue;
        }
        if !limits.contains(&format!("`{flag}`")) && !missing.contains(&flag.to_string()) {
            missing.push(flag.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "README.md's Limits table lacks {missing:?}"
    );
    assert!(readme.contains("`--timestamp-minutes`"));
}
