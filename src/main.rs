use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    wecare::cli::main().await
}
