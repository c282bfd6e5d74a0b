package org.tuntap.codec.udp;

import org.tuntap.codec.ipv4.Ipv4Addresses;
import org.tuntap.codec.ipv6.Ipv6Addresses;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Remembers the last address converted, in both directions, so a stream of packets between
 * the same two endpoints allocates no address objects: inbound, the same
 * {@link InetSocketAddress} is handed out again; outbound, replying to that very object skips
 * the conversion. One per direction and codec; used from the event loop only.
 */
final class AddressCache {

    private int ip;
    private int port = -1;
    private InetSocketAddress socketAddress;

    private InetAddress lastAddress;
    private int lastAddressInt;

    private long high6;
    private long low6;
    private int port6 = -1;
    private InetSocketAddress socketAddress6;

    private Inet6Address lastAddress6;
    private long lastHigh6;
    private long lastLow6;

    /** The socket address of {@code ip}:{@code port}. */
    InetSocketAddress socketAddress(int ip, int port) {
        if (socketAddress == null || ip != this.ip || port != this.port) {
            socketAddress = new InetSocketAddress(Ipv4Addresses.toInet(ip), port);
            this.ip = ip;
            this.port = port;
        }
        return socketAddress;
    }

    /** The big-endian int of an IPv4 address. */
    int toInt(Inet4Address address) {
        if (address != lastAddress) {
            lastAddressInt = Ipv4Addresses.toInt(address);
            lastAddress = address;
        }
        return lastAddressInt;
    }

    /** The socket address of the IPv6 address {@code high}:{@code low} (two big-endian longs), port {@code port}. */
    InetSocketAddress socketAddress6(long high, long low, int port) {
        if (socketAddress6 == null || high != high6 || low != low6 || port != port6) {
            socketAddress6 = new InetSocketAddress(Ipv6Addresses.toInet(high, low), port);
            high6 = high;
            low6 = low;
            port6 = port;
        }
        return socketAddress6;
    }

    /** The high 64 bits of an IPv6 address; {@link #low6} gives the low ones of the same address. */
    long high6(Inet6Address address) {
        remember6(address);
        return lastHigh6;
    }

    /** The low 64 bits of the address last given to {@link #high6}. */
    long low6(Inet6Address address) {
        remember6(address);
        return lastLow6;
    }

    private void remember6(Inet6Address address) {
        if (address != lastAddress6) {
            lastHigh6 = Ipv6Addresses.high(address);
            lastLow6 = Ipv6Addresses.low(address);
            lastAddress6 = address;
        }
    }
}
