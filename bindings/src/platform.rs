//! The core's runtime: one multi-thread tokio runtime per process, created once.
//!
//! Shells call [`init_platform`] at start-up (choosing [`RuntimeMode::Light`] in
//! memory-limited processes such as an iOS notification extension); if they do not, the
//! first call that needs it creates a [`RuntimeMode::Full`] runtime. Exported `async`
//! functions do their work on this runtime and the foreign caller only awaits the result,
//! so no foreign executor ever needs a tokio reactor (ADR 0006).

use std::sync::{Arc, OnceLock};

use tokio::runtime::{Builder, Runtime};

use crate::errors::{Internal, PlatformError};
use crate::logging::{self, LogLevel, LogSink};

/// How much the core's runtime may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RuntimeMode {
    /// The app: up to four worker threads and up to eight threads for database work.
    Full,
    /// Memory-limited processes (iOS app extensions, Android background processes): one
    /// worker thread, two threads for database work and smaller stacks.
    Light,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

fn build(mode: RuntimeMode) -> std::io::Result<Runtime> {
    let mut builder = Builder::new_multi_thread();
    builder.enable_all().thread_name("nara-core");
    match mode {
        RuntimeMode::Full => {
            let cpus = std::thread::available_parallelism().map_or(2, usize::from);
            builder
                .worker_threads(cpus.clamp(1, 4))
                .max_blocking_threads(8);
        }
        RuntimeMode::Light => {
            builder
                .worker_threads(1)
                .max_blocking_threads(2)
                .thread_stack_size(1024 * 1024);
        }
    }
    builder.build()
}

/// The runtime, created in [`RuntimeMode::Full`] on first use if the shell did not call
/// [`init_platform`].
pub(crate) fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        // Without threads the core cannot run at all; there is nothing to fall back to.
        build(RuntimeMode::Full).expect("the operating system refused to start the core's threads")
    })
}

/// Sets up the core for this process: the runtime, and where log lines go.
///
/// Call once, early (Android `Application.onCreate`, iOS `App.init`), before opening a
/// store. `log_sink` receives the core's log lines at `log_level` and above; they never
/// contain patient data. A panic inside the core is logged (location only) and reaches
/// the caller as an `Internal` error, never as a crash.
///
/// Fails with [`PlatformError::AlreadyInitialized`] if the runtime already exists (a
/// second call, or a store opened before this call); the log settings are applied anyway.
#[uniffi::export]
pub fn init_platform(
    runtime_mode: RuntimeMode,
    log_level: LogLevel,
    log_sink: Option<Arc<dyn LogSink>>,
) -> Result<(), PlatformError> {
    logging::install(log_level, log_sink);
    install_panic_hook();
    let mut created = false;
    RUNTIME.get_or_init(|| {
        created = true;
        build(runtime_mode).expect("the operating system refused to start the core's threads")
    });
    if created {
        Ok(())
    } else {
        Err(PlatformError::AlreadyInitialized)
    }
}

/// Panics are caught at the boundary (`panic = "unwind"`) and become `Internal` errors;
/// this hook only records where it happened. The payload is not logged: it might
/// contain data the core was working on.
fn install_panic_hook() {
    static HOOK: OnceLock<()> = OnceLock::new();
    HOOK.get_or_init(|| {
        std::panic::set_hook(Box::new(|info| {
            let location = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_else(|| "unknown location".to_owned());
            tracing::error!(target: "nara::panic", "panic in the Nära core at {location}");
        }));
    });
}

/// Runs blocking store work on the runtime's blocking pool and waits for it.
///
/// If the awaiting foreign coroutine or task is cancelled, only the wait is dropped: the
/// work runs to its end, so a write commits whole or (if it fails) not at all. A panic
/// in the work becomes `E::from(Internal::Panic)`.
pub(crate) async fn blocking<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<Internal> + Send + 'static,
{
    match runtime().spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(E::from(Internal::Panic)),
        Err(_) => Err(E::from(Internal::ShutDown)),
    }
}

/// Spawns a long-lived task (a listener) on the runtime.
pub(crate) fn spawn<F>(future: F) -> tokio::task::JoinHandle<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    runtime().spawn(future)
}
