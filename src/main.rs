//! The `kindling` binary: the program is [`kindling::cli::main`].

fn main() -> std::process::ExitCode {
    kindling::cli::main()
}
