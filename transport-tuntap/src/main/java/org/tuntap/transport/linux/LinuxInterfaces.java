package org.tuntap.transport.linux;

import org.tuntap.transport.spi.ErrnoException;

import java.net.Inet4Address;

/**
 * Settings of a network interface by name, as {@code ip link} / {@code ip addr} change them:
 * what an application sets on the TUN/TAP device it opened. Get it from
 * {@link LinuxTun#interfaces()}.
 *
 * <p>Calls go through {@code ioctl}s on an {@code AF_INET} datagram socket, in the network
 * namespace of the calling process. Changing a setting needs {@code CAP_NET_ADMIN} (EPERM
 * otherwise); an unknown name fails with ENODEV.
 */
public interface LinuxInterfaces {

    /** The interface index ({@code SIOCGIFINDEX}), as {@code ip link} numbers interfaces. */
    int index(String name) throws ErrnoException;

    /** The MTU ({@code SIOCGIFMTU}). */
    int mtu(String name) throws ErrnoException;

    /** Sets the MTU ({@code SIOCSIFMTU}); a TUN device takes 68 to 65535. */
    void setMtu(String name, int mtu) throws ErrnoException;

    /**
     * Sets the interface's primary IPv4 address and its prefix ({@code SIOCSIFADDR}, then
     * {@code SIOCSIFNETMASK}); the kernel adds the route to the prefix once the interface is up.
     * An existing primary address is replaced.
     *
     * @param prefixLength 0 to 32
     */
    void setIpv4Address(String name, Inet4Address address, int prefixLength) throws ErrnoException;

    /** Whether the interface is administratively up ({@code IFF_UP} of {@code SIOCGIFFLAGS}). */
    boolean isUp(String name) throws ErrnoException;

    /** Brings the interface up or down, keeping its other flags ({@code SIOCSIFFLAGS}). */
    void setUp(String name, boolean up) throws ErrnoException;
}
