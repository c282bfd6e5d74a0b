package org.tuntap.codec.icmp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.tuntap.codec.DropCounters;
import org.tuntap.codec.DropPolicy;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.checksum.ChecksumPolicy;
import org.tuntap.codec.ipv4.Ipv4Addresses;
import org.tuntap.codec.ipv4.Ipv4Datagram;
import org.tuntap.codec.ipv4.Ipv4Packet;
import org.tuntap.codec.ipv6.Ipv6Addresses;
import org.tuntap.codec.ipv6.Ipv6Datagram;
import org.tuntap.codec.ipv6.Ipv6Packet;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Answers pings: put it after {@code Ipv4Codec} and {@code Ipv6Codec}, and an ICMPv4 or ICMPv6
 * echo request to one of the application's addresses is answered with an echo reply carrying the
 * same identifier, sequence and data ({@link Ipv4Datagram} / {@link Ipv6Datagram} written down
 * the pipeline, so the IP codecs add the header). The request's buffer becomes the reply: the
 * type is changed in place and the checksum updated (RFC 1624), nothing is copied.
 *
 * <p>Every other valid ICMP message (echo requests to other addresses included) is passed up as
 * an {@link IcmpMessage}; messages that are too short or fail their checksum are dropped and
 * counted; everything that is not ICMP passes on untouched. Requests to multicast or broadcast
 * addresses are never answered (like Linux's default {@code icmp_echo_ignore_broadcasts}).
 */
public final class IcmpEchoResponder extends ChannelInboundHandlerAdapter {

    private final DropPolicy drops = new DropPolicy(InternalLoggerFactory.getInstance(IcmpEchoResponder.class));
    private final boolean anyAddress;
    private final int[] ipv4Addresses;
    /** High and low halves of each IPv6 address, in pairs. */
    private final long[] ipv6Addresses;
    private ChecksumPolicy checksums = ChecksumPolicy.BOTH;
    private boolean needsFlush;

    /** Answers echo requests to these addresses (IPv4 and IPv6, any mix). */
    public IcmpEchoResponder(Collection<? extends InetAddress> addresses) {
        this(false, addresses);
    }

    private IcmpEchoResponder(boolean anyAddress, Collection<? extends InetAddress> addresses) {
        this.anyAddress = anyAddress;
        List<Integer> v4 = new ArrayList<>();
        List<Long> v6 = new ArrayList<>();
        for (InetAddress address : addresses) {
            if (address instanceof Inet4Address a) {
                v4.add(Ipv4Addresses.toInt(a));
            } else if (address instanceof Inet6Address a) {
                v6.add(Ipv6Addresses.high(a));
                v6.add(Ipv6Addresses.low(a));
            } else {
                throw new IllegalArgumentException("not an IP address: " + address);
            }
        }
        this.ipv4Addresses = v4.stream().mapToInt(Integer::intValue).toArray();
        this.ipv6Addresses = v6.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * Answers echo requests to any unicast address: on TUN, every address routed into the
     * device, as if a host stood behind each.
     */
    public static IcmpEchoResponder forAnyAddress() {
        return new IcmpEchoResponder(true, List.of());
    }

    /** Whether to verify inbound checksums (outbound ones are always updated). Default verify. */
    public IcmpEchoResponder setChecksumPolicy(ChecksumPolicy checksums) {
        if (checksums == null) {
            throw new NullPointerException("checksums");
        }
        this.checksums = checksums;
        return this;
    }

    public IcmpEchoResponder setStrict(boolean strict) {
        drops.setStrict(strict);
        return this;
    }

    public DropCounters dropCounters() {
        return drops.counters();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Ipv4Packet packet && packet.protocol() == Icmpv4Types.PROTOCOL) {
            readIpv4(ctx, packet);
        } else if (msg instanceof Ipv6Packet packet && packet.upperLayerProtocol() == Icmpv6Types.NEXT_HEADER
                && !packet.isFragment()) {
            readIpv6(ctx, packet);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void readIpv4(ChannelHandlerContext ctx, Ipv4Packet packet) {
        ByteBuf buf = packet.content();
        int at = packet.payloadIndex();
        int length = packet.payloadLength();
        if (!valid(ctx, packet, IcmpHeader.checkIpv4(buf, at, length, checksums.verify()))) {
            return;
        }
        int source = packet.sourceInt();
        int destination = packet.destinationInt();
        if (IcmpHeader.type(buf, at) == Icmpv4Types.ECHO_REQUEST && isOurs(destination)) {
            IcmpHeader.changeType(buf, at, Icmpv4Types.ECHO_REPLY);
            buf.setIndex(at, at + length); // the packet's reference goes with its buffer, now the reply
            reply(ctx, new Ipv4Datagram(destination, source, Icmpv4Types.PROTOCOL, buf));
            return;
        }
        InetAddress from = packet.source();
        InetAddress to = packet.destination();
        buf.setIndex(at, at + length);
        ctx.fireChannelRead(new IcmpMessage(false, from, to, buf));
    }

    private void readIpv6(ChannelHandlerContext ctx, Ipv6Packet packet) {
        ByteBuf buf = packet.content();
        int at = packet.upperLayerIndex();
        int length = packet.upperLayerLength();
        if (!valid(ctx, packet, IcmpHeader.checkIpv6(buf, at, length, packet.pseudoHeaderSum(length), checksums.verify()))) {
            return;
        }
        long sourceHigh = packet.sourceHigh();
        long sourceLow = packet.sourceLow();
        long destinationHigh = packet.destinationHigh();
        long destinationLow = packet.destinationLow();
        if (IcmpHeader.type(buf, at) == Icmpv6Types.ECHO_REQUEST && isOurs(destinationHigh, destinationLow)) {
            // The pseudo-header holds the same two addresses, swapped: its sum, and so the checksum, stay.
            IcmpHeader.changeType(buf, at, Icmpv6Types.ECHO_REPLY);
            buf.setIndex(at, at + length);
            reply(ctx, new Ipv6Datagram(destinationHigh, destinationLow, sourceHigh, sourceLow, Icmpv6Types.NEXT_HEADER, buf));
            return;
        }
        InetAddress from = packet.source();
        InetAddress to = packet.destination();
        buf.setIndex(at, at + length);
        ctx.fireChannelRead(new IcmpMessage(true, from, to, buf));
    }

    /** True if valid; else counts the drop and releases the packet (also when strict mode throws). */
    private boolean valid(ChannelHandlerContext ctx, Object packet, DropReason problem) {
        if (problem == null) {
            return true;
        }
        try {
            drops.drop(ctx, problem, packet);
        } finally {
            io.netty.util.ReferenceCountUtil.release(packet);
        }
        return false;
    }

    private void reply(ChannelHandlerContext ctx, Object datagram) {
        ctx.write(datagram); // a failed reply (say, an unresolved neighbour) is the requester's to retry
        needsFlush = true;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (needsFlush) {
            needsFlush = false;
            ctx.flush();
        }
        ctx.fireChannelReadComplete();
    }

    private boolean isOurs(int destination) {
        if (anyAddress) {
            return destination != 0 && (destination >>> 24) < 224; // not multicast, class E or broadcast
        }
        for (int address : ipv4Addresses) {
            if (address == destination) {
                return true;
            }
        }
        return false;
    }

    private boolean isOurs(long high, long low) {
        if (anyAddress) {
            boolean multicast = (high >>> 56) == 0xFF;
            return !multicast && (high | low) != 0;
        }
        for (int i = 0; i < ipv6Addresses.length; i += 2) {
            if (ipv6Addresses[i] == high && ipv6Addresses[i + 1] == low) {
                return true;
            }
        }
        return false;
    }
}
