package org.tuntap.testkit;

import io.netty.channel.EventLoop;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TunnelHarness#finish()} ends the harness's loop at once. Its clock stands still, so a
 * graceful shutdown's quiet period would never pass: the loop would stay alive and every run of
 * it sleep instead.
 */
class TunnelHarnessFinishTest {

    @Test
    void finishTerminatesTheLoop() {
        TunnelHarness harness = TunnelHarness.of();
        EventLoop loop = harness.channel().eventLoop();
        assertFalse(harness.finish());
        assertFalse(harness.channel().isOpen());
        assertTrue(loop.isTerminated(), "the harness's loop after finish()");
    }

    @Test
    void finishTerminatesTheLoopWithTasksStillScheduled() {
        TunnelHarness harness = TunnelHarness.of();
        EventLoop loop = harness.channel().eventLoop();
        boolean[] ran = new boolean[1];
        loop.schedule(() -> ran[0] = true, 1, TimeUnit.HOURS); // the clock never gets there
        assertFalse(harness.finish());
        assertTrue(loop.isTerminated(), "the harness's loop after finish()");
        assertFalse(ran[0], "a task not yet due is cancelled, not run");
    }
}
