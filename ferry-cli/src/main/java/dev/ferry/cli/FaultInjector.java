package dev.ferry.cli;

import java.io.PrintStream;

/** A fault brought on during each pool's measured run: a shell command ({@link Fault}) or killed backends. */
interface FaultInjector {

    /** Starts a daemon thread that brings the fault on and reports it to {@code out}; interrupt it when the run ends. */
    Thread start(String pool, PrintStream out);
}
