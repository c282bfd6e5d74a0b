package org.tuntap.transport.linux;

import org.tuntap.transport.spi.ErrnoException;

import java.net.Inet4Address;
import java.net.Inet6Address;

/**
 * Settings of a network interface by name, as {@code ip link} / {@code ip addr} change them:
 * what an application sets on the TUN/TAP device it opened. Get it from
 * {@link LinuxTun#interfaces()}.
 *
 * <p>Calls go through {@code ioctl}s on an {@code AF_INET} datagram socket ({@code AF_INET6} for
 * IPv6 addresses), in the network namespace of the calling process; no {@code ip} command is run. Changing a setting needs {@code CAP_NET_ADMIN} (EPERM
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

    /**
     * Adds an IPv6 address with its prefix, as {@code ip -6 addr add} does ({@code SIOCSIFADDR}
     * with a {@code struct in6_ifreq} on an {@code AF_INET6} socket); the kernel adds the route
     * to the prefix once the interface is up. Addresses already there are kept (an interface has
     * as many IPv6 addresses as you add). On a TAP device the kernel runs duplicate address
     * detection first (the address is "tentative" for about a second after the link is up; the
     * {@code accept_dad} sysctl turns that off); TUN devices skip it.
     *
     * @param prefixLength 0 to 128
     * @throws ErrnoException EEXIST if the address is already there; EINVAL if the interface has no
     *     IPv6 (its MTU is below IPv6's minimum of 1280); EACCES if the {@code disable_ipv6} sysctl
     *     is set for it
     */
    void addIpv6Address(String name, Inet6Address address, int prefixLength) throws ErrnoException;

    /**
     * Removes an IPv6 address ({@code SIOCDIFADDR} with a {@code struct in6_ifreq}), as
     * {@code ip -6 addr del} does.
     *
     * @param prefixLength the prefix it was added with, 0 to 128
     * @throws ErrnoException EADDRNOTAVAIL (99) if the interface has no such address
     */
    void removeIpv6Address(String name, Inet6Address address, int prefixLength) throws ErrnoException;

    /** The hardware address ({@code SIOCGIFHWADDR}): 6 bytes for a TAP device, none (empty) for TUN. */
    byte[] macAddress(String name) throws ErrnoException;

    /**
     * Sets a TAP device's MAC address ({@code SIOCSIFHWADDR}), up or down, as
     * {@code ip link set dev NAME address MAC} does.
     *
     * @param mac 6 bytes, a unicast address (the kernel refuses multicast and all-zero ones with
     *     EADDRNOTAVAIL); a TUN device has none to set (EOPNOTSUPP)
     */
    void setMacAddress(String name, byte[] mac) throws ErrnoException;
}
