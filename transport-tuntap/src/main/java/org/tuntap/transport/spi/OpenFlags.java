package org.tuntap.transport.spi;

/**
 * Flags for {@link TunIoSystem#open}. The values are this SPI's own (the same as Twisted's
 * {@code MemoryIOSystem}); each fd layer maps them to its platform's.
 */
public final class OpenFlags {
    /** Open for reading and writing. */
    public static final int O_RDWR = 1;
    /** Non-blocking: reads and writes that would wait fail with {@link Errno#EAGAIN}. */
    public static final int O_NONBLOCK = 2;
    /** Close the fd in child processes at {@code exec}. */
    public static final int O_CLOEXEC = 4;

    /** What a TUN port opens {@code /dev/net/tun} with. */
    public static final int TUN_PORT = O_RDWR | O_NONBLOCK | O_CLOEXEC;

    private OpenFlags() {
    }
}
