package org.tuntap.testkit;

import org.tuntap.transport.spi.ErrnoException;

/**
 * Opens a special device of a {@link MemoryIoSystem} (Twisted's device class passed to
 * {@code registerSpecialDevice}); {@code Tunnel::new} is the one for {@code /dev/net/tun}.
 */
@FunctionalInterface
public interface MemoryDevice {

    /**
     * @param system the system the file is opened on
     * @param openFlags the {@link org.tuntap.transport.spi.OpenFlags} bits given to {@code open}
     */
    MemoryFile open(MemoryIoSystem system, int openFlags) throws ErrnoException;
}
