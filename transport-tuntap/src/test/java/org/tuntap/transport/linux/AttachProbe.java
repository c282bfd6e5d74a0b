package org.tuntap.transport.linux;

import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.TunIoctl;

/**
 * Run in a child JVM (with capabilities dropped) by {@link PrivilegeTest}: tries to create a
 * TUN device and prints the outcome.
 */
public final class AttachProbe {
    private AttachProbe() {
    }

    public static void main(String[] args) throws Exception {
        LinuxTun.ensureAvailability();
        try (TunFd tun = TunFd.attach(args[0], TunIoctl.IFF_TUN)) {
            System.out.println("attached=" + tun.name);
        } catch (ErrnoException e) {
            System.out.println("errno=" + e.errno());
            System.out.println("message=" + e.getMessage());
        }
    }
}
