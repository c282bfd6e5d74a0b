package org.tuntap.examples;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Why an example stops (time up, a signal, the device failing), and the handshake with the JVM's
 * shutdown hook: on SIGTERM or Ctrl-C the hook only asks the main thread to stop and waits until
 * it has closed the channel and printed its totals. The hook never touches the channel or its
 * event loop itself, so it cannot meet a loop that has already terminated, and the JVM cannot
 * exit halfway through the totals.
 */
final class StopSignal {
    enum Reason { TIME_UP, SIGNAL, DEVICE_CLOSED }

    /** How long the hook waits for the main thread before letting the JVM exit regardless. */
    private static final long HOOK_WAIT_SECONDS = 10;

    private final CompletableFuture<Reason> requested = new CompletableFuture<>();
    private final CountDownLatch finished = new CountDownLatch(1);

    /** Asks the echo to stop; the first reason given wins. */
    void request(Reason reason) {
        requested.complete(reason);
    }

    /** Waits for a stop request, or {@code seconds} (0: no limit), whichever comes first. */
    Reason await(long seconds) throws InterruptedException {
        try {
            return seconds > 0 ? requested.get(seconds, TimeUnit.SECONDS) : requested.get();
        } catch (TimeoutException e) {
            request(Reason.TIME_UP);
            return requested.getNow(Reason.TIME_UP);
        } catch (ExecutionException e) {
            throw new AssertionError("never completed exceptionally", e);
        }
    }

    /** A shutdown hook: asks the echo to stop and waits until it has finished. */
    Thread shutdownHook() {
        return new Thread(() -> {
            request(Reason.SIGNAL);
            try {
                finished.await(HOOK_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "stop-signal");
    }

    /** The echo has stopped and said so: a waiting shutdown hook may return. */
    void finished() {
        finished.countDown();
    }
}
