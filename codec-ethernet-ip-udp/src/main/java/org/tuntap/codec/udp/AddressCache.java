package org.tuntap.codec.udp;

import org.tuntap.codec.ipv4.Ipv4Addresses;

import java.net.Inet4Address;
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
}
