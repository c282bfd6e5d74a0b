package org.tuntap.examples;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.ParseResult;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ethernet.EthernetHeader;
import org.tuntap.codec.icmp.IcmpHeader;
import org.tuntap.codec.icmp.Icmpv4Types;
import org.tuntap.codec.icmp.Icmpv6Types;
import org.tuntap.codec.ipv4.Ipv4Addresses;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv4.Ipv4Packet;
import org.tuntap.codec.ipv4.Ipv4Repr;
import org.tuntap.codec.ipv6.Ipv6Addresses;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ipv6.Ipv6Packet;
import org.tuntap.codec.ipv6.Ipv6Repr;
import org.tuntap.codec.pi.PiHeader;
import org.tuntap.codec.udp.UdpHeader;
import org.tuntap.testkit.TunnelHarness;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The host's side of the in-memory demo, for what {@code MemoryIoSystem.sendUdp} does not do
 * (it speaks UDP over IPv4): UDP over IPv6 and {@code ping} in both families. It builds the
 * packets the kernel would route into the device, with the codec module's headers, and reads
 * the echo's answers from the device as the kernel would (after the PI and Ethernet headers, if
 * any), checksums verified.
 */
final class InMemoryPeer {

    /** An answer: who sent it, from which port (0 for ICMP), and its payload (ICMP: the echo data). */
    record Answer(InetAddress from, int port, byte[] payload) {
    }

    private final TunnelHarness harness;
    private final boolean packetInfo;
    private final boolean tap;

    InMemoryPeer(TunnelHarness harness, boolean packetInfo, boolean tap) {
        this.harness = harness;
        this.packetInfo = packetInfo;
        this.tap = tap;
    }

    /** Sends a UDP datagram over IPv6 and returns the answer to {@code from}, or null if none came. */
    Answer udp6(InetSocketAddress from, InetSocketAddress to, byte[] payload) {
        Inet6Address source = (Inet6Address) from.getAddress();
        Inet6Address destination = (Inet6Address) to.getAddress();
        int length = UdpHeader.LENGTH + payload.length;
        ByteBuf packet = Unpooled.buffer(Ipv6Header.LENGTH + length);
        new Ipv6Repr().source(source).destination(destination).nextHeader(Ipv6Header.PROTOCOL_UDP).emit(packet, 0, length);
        packet.writerIndex(Ipv6Header.LENGTH + UdpHeader.LENGTH).writeBytes(payload);
        UdpHeader.setIpv6(packet, Ipv6Header.LENGTH, Ipv6Addresses.high(source), Ipv6Addresses.low(source),
                Ipv6Addresses.high(destination), Ipv6Addresses.low(destination), from.getPort(), to.getPort(),
                Unpooled.wrappedBuffer(payload), 0, payload.length, true);
        harness.writeToTunnel(ByteBufUtil.getBytes(packet));
        for (byte[] written; (written = harness.readFromTunnel()) != null; ) {
            Answer answer = udp6Answer(written, from);
            if (answer != null) {
                return answer;
            }
        }
        return null;
    }

    /** Sends an ICMP or ICMPv6 echo request and returns the echo reply, or null if none came. */
    Answer ping(InetAddress from, InetAddress to, int identifier, int sequence, byte[] data) {
        boolean v6 = to instanceof Inet6Address;
        int length = IcmpHeader.LENGTH + data.length;
        int header = v6 ? Ipv6Header.LENGTH : Ipv4Header.MIN_LENGTH;
        ByteBuf packet = Unpooled.buffer(header + length);
        if (v6) {
            new Ipv6Repr().source((Inet6Address) from).destination((Inet6Address) to).nextHeader(Icmpv6Types.NEXT_HEADER)
                    .emit(packet, 0, length);
        } else {
            new Ipv4Repr().source((Inet4Address) from).destination((Inet4Address) to).protocol(Icmpv4Types.PROTOCOL)
                    .emit(packet, 0, length, true);
        }
        IcmpHeader.setEcho(packet, header, v6 ? Icmpv6Types.ECHO_REQUEST : Icmpv4Types.ECHO_REQUEST, identifier, sequence);
        packet.writerIndex(header + IcmpHeader.LENGTH).writeBytes(data);
        IcmpHeader.setChecksum(packet, header, length,
                v6 ? InternetChecksum.pseudoHeaderSumIpv6(packet, 0, Icmpv6Types.NEXT_HEADER, length) : 0);
        harness.writeToTunnel(ByteBufUtil.getBytes(packet));
        for (byte[] written; (written = harness.readFromTunnel()) != null; ) {
            Answer answer = v6 ? echoReply6(written, identifier, sequence) : echoReply4(written, identifier, sequence);
            if (answer != null) {
                return answer;
            }
        }
        return null;
    }

    /** The IP packet in what the device gave the kernel, or null if it is not of this family. */
    private ByteBuf ipPacket(byte[] written, int etherType) {
        ByteBuf buf = Unpooled.wrappedBuffer(written);
        if (packetInfo) {
            if (buf.readableBytes() < PiHeader.LENGTH) {
                return null;
            }
            buf.skipBytes(PiHeader.LENGTH);
        }
        if (tap) {
            if (buf.readableBytes() < EthernetHeader.LENGTH || buf.getUnsignedShort(buf.readerIndex() + 12) != etherType) {
                return null;
            }
            buf.skipBytes(EthernetHeader.LENGTH);
        }
        return buf;
    }

    private Answer udp6Answer(byte[] written, InetSocketAddress to) {
        Ipv6Packet packet = parse6(written);
        if (packet == null) {
            return null;
        }
        try {
            ByteBuf buf = packet.content();
            int at = packet.upperLayerIndex();
            if (packet.upperLayerProtocol() != Ipv6Header.PROTOCOL_UDP || !packet.destination().equals(to.getAddress())
                    || UdpHeader.checkIpv6(buf, at, packet.upperLayerLength(), buf.readerIndex(), true) != null
                    || UdpHeader.destinationPort(buf, at) != to.getPort()) {
                return null;
            }
            byte[] payload = ByteBufUtil.getBytes(buf, at + UdpHeader.LENGTH, UdpHeader.length(buf, at) - UdpHeader.LENGTH);
            return new Answer(packet.source(), UdpHeader.sourcePort(buf, at), payload);
        } finally {
            packet.release();
        }
    }

    private Answer echoReply6(byte[] written, int identifier, int sequence) {
        Ipv6Packet packet = parse6(written);
        if (packet == null) {
            return null;
        }
        try {
            ByteBuf buf = packet.content();
            int at = packet.upperLayerIndex();
            int length = packet.upperLayerLength();
            if (packet.upperLayerProtocol() != Icmpv6Types.NEXT_HEADER
                    || IcmpHeader.checkIpv6(buf, at, length, packet.pseudoHeaderSum(length), true) != null) {
                return null;
            }
            return echoReply(buf, at, length, Icmpv6Types.ECHO_REPLY, identifier, sequence, packet.source());
        } finally {
            packet.release();
        }
    }

    private Answer echoReply4(byte[] written, int identifier, int sequence) {
        ByteBuf buf = ipPacket(written, EtherType.IPV4);
        if (buf == null) {
            return null;
        }
        ParseResult<Ipv4Packet> parsed = Ipv4Packet.parse(buf, true);
        if (!parsed.isOk()) {
            return null;
        }
        Ipv4Packet packet = parsed.value();
        try {
            int at = packet.payloadIndex();
            int length = packet.payloadLength();
            if (packet.protocol() != Icmpv4Types.PROTOCOL || IcmpHeader.checkIpv4(packet.content(), at, length, true) != null) {
                return null;
            }
            return echoReply(packet.content(), at, length, Icmpv4Types.ECHO_REPLY, identifier, sequence,
                    Ipv4Addresses.toInet(packet.sourceInt()));
        } finally {
            packet.release();
        }
    }

    private static Answer echoReply(ByteBuf buf, int at, int length, int type, int identifier, int sequence, InetAddress from) {
        if (IcmpHeader.type(buf, at) != type || IcmpHeader.identifier(buf, at) != identifier
                || IcmpHeader.sequence(buf, at) != sequence) {
            return null;
        }
        return new Answer(from, 0, ByteBufUtil.getBytes(buf, at + IcmpHeader.LENGTH, length - IcmpHeader.LENGTH));
    }

    private Ipv6Packet parse6(byte[] written) {
        ByteBuf buf = ipPacket(written, EtherType.IPV6);
        if (buf == null || !buf.isReadable() || Ipv6Header.version(buf, buf.readerIndex()) != 6) {
            return null;
        }
        ParseResult<Ipv6Packet> parsed = Ipv6Packet.parse(buf);
        return parsed.isOk() ? parsed.value() : null;
    }
}
