//! `kindling repl`: the interactive shell at a terminal, or a script runner with `-c`/`-f`
//! (or statements piped to stdin); see [`crate::repl`].

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::repl::{Shell, editor};

/// Arguments of `kindling repl`.
#[derive(Debug, Args)]
pub struct ReplArgs {
    /// Run these statements (`;`-separated) and exit; may be repeated.
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub commands: Vec<String>,
    /// Run the statements of this file and exit; may be repeated. Files run before `-c`.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The history file of the interactive shell [default: $KINDLING_HISTORY, else
    /// ~/.kindling_history].
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Keep no history file.
    #[arg(long, conflicts_with = "history")]
    pub no_history: bool,
}

/// Runs the shell; a script stops at its first error and exits with that error's code.
pub async fn run(args: ReplArgs) -> Result<u8> {
    let scripted = !args.commands.is_empty() || !args.files.is_empty();
    if !scripted && std::io::stdin().is_terminal() {
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let mut shell = Shell::try_new(true, color)?;
        let history = if args.no_history {
            None
        } else {
            args.history.or_else(editor::history_path)
        };
        let code = editor::interactive(&mut shell, history).await;
        shell.shutdown().await;
        return code;
    }
    let mut scripts: Vec<String> = Vec::new();
    for file in &args.files {
        scripts.push(
            std::fs::read_to_string(file)
                .map_err(|e| Error::io(format!("repl -f: cannot read '{}'", file.display()), e))?,
        );
    }
    scripts.extend(args.commands);
    if !scripted {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::io("repl: reading statements from stdin", e))?;
        scripts.push(text);
    }
    let mut shell = Shell::try_new(false, false)?;
    let mut outcome = Ok(0);
    for script in &scripts {
        match shell.run_script(script).await {
            Ok(crate::repl::Flow::Continue) => {}
            Ok(crate::repl::Flow::Quit) => break,
            Err(e) => {
                shell.print_error(&e);
                outcome = Ok(e.exit_code());
                break;
            }
        }
    }
    shell.shutdown().await;
    outcome
}
