package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DatagramPacket;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.ParseResult;
import org.tuntap.codec.ethernet.EthernetHeader;
import org.tuntap.codec.pi.PiHeader;
import org.tuntap.codec.udp.UdpPackets;
import org.tuntap.transport.spi.TunIoctl;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * The socket-like end of {@link MemoryIoSystem#receiveUdp}: plays a UDP socket bound to one
 * IPv4 address and port on the far side of a tunnel, receiving what the program wrote to it.
 *
 * <p>Each call takes the oldest packet in the tunnel's write buffer that is an IPv4+UDP datagram
 * to this address and port, peeling the layers as the kernel would: the PI header unless
 * {@code IFF_NO_PI} (a TUN packet's PI must say IPv4), an untagged Ethernet header of type IPv4
 * on a TAP device (the destination MAC is not checked: the in-memory device has none), then IPv4
 * and UDP with both checksums verified (a zero UDP checksum means none). Other packets, such as
 * ARP, IPv6, other ports, or datagrams a real stack would drop for a bad checksum or length,
 * stay in the write buffer. Parsing is the codec module's ({@link UdpPackets}). On a tunnel with
 * {@code IFF_VNET_HDR}, written super-packets are first replaced in the write buffer by the
 * packets the kernel makes of them ({@link KernelSegmentation}), as the kernel segments a USO
 * super-packet for a socket, so each datagram it carries is received on its own.
 */
public final class UdpReceiver {

    /** A received datagram: its payload (possibly cut, see {@link #recvFrom}) and its sender. */
    public record Datagram(byte[] payload, InetSocketAddress sender) {
    }

    private final Tunnel tunnel;
    private final InetSocketAddress address;

    UdpReceiver(Tunnel tunnel, InetAddress host, int port) {
        this.tunnel = Objects.requireNonNull(tunnel, "tunnel");
        if (!(host instanceof Inet4Address)) {
            throw new IllegalArgumentException("receiveUdp needs an IPv4 address, not " + host);
        }
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException("port " + port + " is not within 0..65535");
        }
        this.address = new InetSocketAddress(host, port);
    }

    /** The address this receiver plays: datagrams to other addresses are left alone. */
    public InetSocketAddress address() {
        return address;
    }

    /**
     * The payload of the oldest datagram written to this address, cut to {@code maxBytes} as a
     * UDP socket's {@code recv} does (the rest is lost).
     *
     * @throws NoSuchElementException when no such datagram has been written (this cannot wait)
     */
    public byte[] recv(int maxBytes) {
        return recvFrom(maxBytes).payload();
    }

    /** Like {@link #recv}, with the sender's address. */
    public Datagram recvFrom(int maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected >= 0)");
        }
        Datagram datagram = poll(maxBytes);
        if (datagram == null) {
            throw new NoSuchElementException("no UDP datagram to " + address + " written to " + tunnel);
        }
        return datagram;
    }

    /** The number of datagrams to this address waiting in the tunnel's write buffer. */
    public int available() {
        tunnel.segmentWrittenSuperPackets();
        int count = 0;
        int mode = tunnel.tunnelMode();
        for (byte[] packet : tunnel.writtenPackets()) {
            Datagram datagram = parse(packet, mode, Integer.MAX_VALUE);
            if (datagram != null) {
                count++;
            }
        }
        return count;
    }

    private Datagram poll(int maxBytes) {
        tunnel.segmentWrittenSuperPackets(); // a USO super-packet reaches a socket as its datagrams
        int mode = tunnel.tunnelMode();
        // Parse outside the tunnel's lock; if another thread takes the packet first, look again.
        while (true) {
            boolean raced = false;
            for (byte[] packet : tunnel.writtenPackets()) {
                Datagram datagram = parse(packet, mode, maxBytes);
                if (datagram == null) {
                    continue;
                }
                if (tunnel.removeWritten(packet)) {
                    return datagram;
                }
                raced = true;
                break;
            }
            if (!raced) {
                return null;
            }
        }
    }

    /** The datagram in {@code packet} if it is UDP to this address, else null. */
    private Datagram parse(byte[] packet, int mode, int maxBytes) {
        ByteBuf buf = Unpooled.wrappedBuffer(packet);
        try {
            if ((mode & TunIoctl.IFF_NO_PI) == 0) {
                if (buf.readableBytes() < PiHeader.LENGTH) {
                    return null;
                }
                if (!Tunnel.isTap(mode) && PiHeader.proto(buf, buf.readerIndex()) != EtherType.IPV4) {
                    return null;
                }
                buf.skipBytes(PiHeader.LENGTH);
            }
            if ((mode & TunIoctl.IFF_VNET_HDR) != 0) {
                int headerSize = tunnel.vnetHeaderSize();
                if (buf.readableBytes() < headerSize) {
                    return null;
                }
                buf.skipBytes(headerSize);
            }
            if (Tunnel.isTap(mode)) {
                if (buf.readableBytes() < EthernetHeader.LENGTH
                        || EthernetHeader.outerType(buf, buf.readerIndex()) != EtherType.IPV4) {
                    return null;
                }
                buf.skipBytes(EthernetHeader.LENGTH);
            }
            ParseResult<DatagramPacket> parsed = UdpPackets.parse(buf);
            if (!parsed.isOk()) {
                return null;
            }
            DatagramPacket datagram = parsed.value();
            try {
                if (!address.equals(datagram.recipient())) {
                    return null;
                }
                ByteBuf payload = datagram.content();
                int length = Math.min(maxBytes, payload.readableBytes());
                return new Datagram(ByteBufUtil.getBytes(payload, payload.readerIndex(), length), datagram.sender());
            } finally {
                datagram.release();
            }
        } finally {
            buf.release();
        }
    }
}
