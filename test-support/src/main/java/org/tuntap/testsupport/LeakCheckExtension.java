package org.tuntap.testsupport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;

/**
 * Fails a test when Netty's leak detector finds a buffer that was never released.
 *
 * <p>Registered for every test by JUnit's extension auto-detection (enabled in the parent pom).
 * After each test it collects garbage and then allocates a tracked buffer: Netty only looks for
 * leaked buffers when it tracks a new one. A leak is reported by the test during or after which
 * it was collected, which is the leaking test or one shortly after it; the record names the
 * allocation site either way.
 */
public final class LeakCheckExtension implements AfterEachCallback, AfterAllCallback {

    private static final int COLLECTION_ROUNDS = 3;

    @Override
    public void afterEach(ExtensionContext context) {
        check();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        check();
    }

    /** Collects garbage, lets Netty look for leaks, and fails with every leak it reported. */
    static void check() {
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            throw new AssertionError("tests must run with -Dio.netty.leakDetection.level=PARANOID, not "
                    + ResourceLeakDetector.getLevel());
        }
        for (int round = 0; round < COLLECTION_ROUNDS; round++) {
            System.gc();
            // Give the reference handler thread a moment to enqueue what the collection found.
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            ByteBuf probe = UnpooledByteBufAllocator.DEFAULT.heapBuffer(1);
            probe.release();
            probe = UnpooledByteBufAllocator.DEFAULT.directBuffer(1);
            probe.release();
        }
        List<String> leaks = FailingLeakDetector.drain();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " Netty buffer leak(s):\n" + String.join("\n\n", leaks));
        }
    }
}
