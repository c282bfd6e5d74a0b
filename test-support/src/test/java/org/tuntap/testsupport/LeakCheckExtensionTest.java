package org.tuntap.testsupport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The build's leak check itself: a leaked buffer must fail, a released one must not. */
class LeakCheckExtensionTest {

    @Test
    void aBufferDroppedWithoutReleaseFailsTheCheckNamingWhereItWasAllocated() {
        leakOne();
        AssertionError failure = assertThrows(AssertionError.class, LeakCheckExtension::check);
        assertTrue(failure.getMessage().contains("LEAK"), failure.getMessage());
        assertTrue(failure.getMessage().contains("leakOne"), "the record names the allocation site: " + failure.getMessage());
    }

    @Test
    void releasedBuffersPass() {
        ByteBuf buffer = PooledByteBufAllocator.DEFAULT.directBuffer(16);
        buffer.writeLong(42);
        buffer.release();
        assertDoesNotThrow(LeakCheckExtension::check);
    }

    private static void leakOne() {
        ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(16);
        leaked.writeLong(7); // touched, so PARANOID records where
    }
}
