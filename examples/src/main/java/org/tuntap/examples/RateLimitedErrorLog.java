package org.tuntap.examples;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.io.PrintStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The last handler of the echo's pipeline: takes every exception that reaches the end (a reply
 * that failed to encode or to be written, say), counts it, and prints one line about it at most
 * once per interval, so a peer sending datagrams that cannot be answered cannot flood the log.
 * Without it each would reach the pipeline's tail, which logs a warning and a stack trace.
 *
 * <p>Whether an error ends the application is not this handler's business: the channel closes
 * on a fatal one (a deleted device), and the application sees that.
 */
@ChannelHandler.Sharable
public final class RateLimitedErrorLog extends ChannelInboundHandlerAdapter {
    /** How often at most a line is printed. */
    public static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final PrintStream log;
    private final LongSupplier nanoClock;
    private final LongAdder errors = new LongAdder();
    private volatile Throwable latest;
    // Event-loop state.
    private long lastPrinted;
    private boolean printedAny;
    private long unprinted;

    /** Prints to {@code log} on the system clock. */
    public RateLimitedErrorLog(PrintStream log) {
        this(log, System::nanoTime);
    }

    RateLimitedErrorLog(PrintStream log, LongSupplier nanoClock) {
        this.log = log;
        this.nanoClock = nanoClock;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        errors.increment();
        latest = cause;
        long now = nanoClock.getAsLong();
        if (printedAny && now - lastPrinted < INTERVAL_NANOS) {
            unprinted++;
            return;
        }
        log.println("udp-echo: " + describe(cause)
                + (unprinted > 0 ? " (and " + unprinted + " more errors since the last report)" : ""));
        printedAny = true;
        lastPrinted = now;
        unprinted = 0;
    }

    /** Exceptions that reached the end of the pipeline. Readable from any thread. */
    public long errors() {
        return errors.sum();
    }

    /** The most recent of them, or null. */
    public Throwable latest() {
        return latest;
    }

    /** One line: the exception's class and message, and its cause's message if it has one. */
    static String describe(Throwable cause) {
        String text = cause.getClass().getSimpleName() + ": " + cause.getMessage();
        Throwable inner = cause.getCause();
        return inner == null || inner.getMessage() == null || text.contains(inner.getMessage())
                ? text : text + " (" + inner.getMessage() + ")";
    }
}
