//! The `giftqa` binary: parse the command line, set up logging (`GIFTQA_LOG`, default `warn`
//! without wgpu's GL-probe noise), run, map errors to exit code 2.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GIFTQA_LOG")
                .unwrap_or_else(|_| "warn,wgpu_hal::gles=off".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    giftqa::format::quiet_contained_panics();
    let cli = giftqa::cli::Cli::parse();
    match giftqa::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("giftqa: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
