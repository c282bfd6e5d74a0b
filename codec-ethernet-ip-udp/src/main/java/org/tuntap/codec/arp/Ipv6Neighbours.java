package org.tuntap.codec.arp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import org.tuntap.codec.DropPolicy;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.ethernet.EthernetFrame;
import org.tuntap.codec.ethernet.EthernetHeader;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.icmp.Icmpv6Types;
import org.tuntap.codec.ipv6.Ipv6ExtensionWalker;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ndp.Ipv6Multicast;
import org.tuntap.codec.ndp.NdpMessage;
import org.tuntap.codec.ndp.NdpRepr;

import java.util.HashMap;
import java.util.Map;

/**
 * {@link ArpHandler}'s IPv6 half: neighbour discovery (RFC 4861) on the Ethernet link, what ARP
 * is to IPv4. Answers solicitations for the application's IPv6 addresses, learns neighbours
 * from the link-layer address options of solicitations and advertisements (never from other
 * packets), resolves outbound destinations (multicast ones to {@code 33:33} and their low 32
 * bits) and solicits the unknown ones. Only the handler's event loop calls it.
 */
final class Ipv6Neighbours {

    private final long mac;
    /** High and low halves of each own address, in pairs. */
    private final long[] ownAddresses;
    private final DropPolicy drops;
    private final Ipv6NeighbourTable table = new Ipv6NeighbourTable();
    private final Map<Ipv6NeighbourTable.Key, Long> lastSolicitationNanos = new HashMap<>();
    private final Ipv6ExtensionWalker walker = new Ipv6ExtensionWalker();
    private final NdpRepr repr = new NdpRepr();

    Ipv6Neighbours(long mac, long[] ownAddresses, DropPolicy drops) {
        this.mac = mac;
        this.ownAddresses = ownAddresses;
        this.drops = drops;
    }

    Ipv6NeighbourTable table() {
        return table;
    }

    /** Once per sweep interval: entries age, and the solicitation rate limit forgets (bounded too). */
    void sweep() {
        table.sweep();
        lastSolicitationNanos.clear();
    }

    /**
     * Handles an IPv6 frame if it is a neighbour solicitation or advertisement: true when it was
     * (the caller releases it), false for any other IPv6 packet, which goes on up. Fragments and
     * packets the IPv6 layer will reject are not looked into.
     */
    boolean read(ChannelHandlerContext ctx, EthernetFrame frame) {
        ByteBuf buf = frame.content();
        int at = buf.readerIndex();
        int length = buf.readableBytes();
        if (Ipv6Header.check(buf, at, length) != null || walker.walk(buf, at) != null
                || walker.upperLayerProtocol() != Icmpv6Types.NEXT_HEADER || walker.fragmentHeaderOffset() >= 0) {
            return false; // fragmented neighbour discovery is ignored anyway (RFC 6980)
        }
        int message = at + walker.upperLayerOffset();
        int messageLength = Ipv6Header.LENGTH + Ipv6Header.payloadLength(buf, at) - walker.upperLayerOffset();
        if (messageLength < 1 || !NdpMessage.isNeighbourMessage(NdpMessage.type(buf, message))) {
            return false;
        }
        DropReason problem = NdpMessage.check(buf, at, message, messageLength);
        if (problem != null) {
            drops.drop(ctx, problem, frame);
            return true;
        }
        long targetHigh = NdpMessage.targetHigh(buf, message);
        long targetLow = NdpMessage.targetLow(buf, message);
        if (NdpMessage.type(buf, message) == Icmpv6Types.NEIGHBOUR_SOLICITATION) {
            long sourceHigh = Ipv6Header.sourceHigh(buf, at);
            long sourceLow = Ipv6Header.sourceLow(buf, at);
            long sourceMac = NdpMessage.linkLayerAddress(buf, message, messageLength, NdpMessage.SOURCE_LINK_LAYER_ADDRESS);
            if (sourceMac >= 0) {
                learn(sourceHigh, sourceLow, sourceMac, true);
            }
            if (isOwn(targetHigh, targetLow)) {
                advertise(ctx, targetHigh, targetLow, sourceHigh, sourceLow, sourceMac >= 0 ? sourceMac : frame.sourceBits());
            }
        } else {
            long targetMac = NdpMessage.linkLayerAddress(buf, message, messageLength, NdpMessage.TARGET_LINK_LAYER_ADDRESS);
            if (targetMac >= 0) {
                learn(targetHigh, targetLow, targetMac, (NdpMessage.flags(buf, message) & NdpMessage.FLAG_OVERRIDE) != 0);
            }
        }
        return true;
    }

    /**
     * Answers a solicitation for our {@code target}: to the asker, solicited; to all nodes when the
     * asker is probing for a duplicate (unspecified source), not solicited (RFC 4861 7.2.4).
     */
    private void advertise(ChannelHandlerContext ctx, long targetHigh, long targetLow, long askerHigh, long askerLow,
                           long askerMac) {
        boolean duplicateProbe = (askerHigh | askerLow) == 0;
        long destinationHigh = duplicateProbe ? Ipv6Multicast.LINK_LOCAL_HIGH : askerHigh;
        long destinationLow = duplicateProbe ? Ipv6Multicast.ALL_NODES_LOW : askerLow;
        long destinationMac = duplicateProbe ? Ipv6Multicast.macAddress(Ipv6Multicast.ALL_NODES_LOW) : askerMac;
        if (MacAddress.isMulticast(destinationMac) && !duplicateProbe) {
            return; // no unicast MAC to answer to
        }
        repr.advertisement(targetHigh, targetLow, mac, duplicateProbe ? NdpMessage.FLAG_OVERRIDE
                        : NdpMessage.FLAG_SOLICITED | NdpMessage.FLAG_OVERRIDE)
                .addresses(targetHigh, targetLow, destinationHigh, destinationLow);
        send(ctx, destinationMac);
    }

    /** Learns a unicast neighbour; {@code override} false keeps a different MAC already known (RFC 4861 7.2.5). */
    private void learn(long high, long low, long neighbourMac, boolean override) {
        if ((high | low) == 0 || Ipv6Multicast.isMulticast(high) || isOwn(high, low)
                || MacAddress.isMulticast(neighbourMac) || neighbourMac == 0) {
            return;
        }
        long known = table.resolve(high, low);
        if (!override && known >= 0 && known != neighbourMac) {
            return;
        }
        if (!table.learn(high, low, neighbourMac)) {
            drops.counters().increment(DropReason.NEIGHBOUR_TABLE_FULL);
        }
    }

    /** The MAC for an IPv6 destination as bits, or -1 when unknown. */
    long resolve(long high, long low) {
        if (Ipv6Multicast.isMulticast(high)) {
            return Ipv6Multicast.macAddress(low);
        }
        return table.resolve(high, low);
    }

    boolean isStale(long high, long low) {
        return table.isStale(high, low);
    }

    /**
     * Sends a solicitation for {@code target} to its solicited-node address, unless one went out
     * less than {@code intervalNanos} ago; from the packet's source if that is ours, else from our
     * first address.
     */
    void solicitIfDue(ChannelHandlerContext ctx, long sourceHigh, long sourceLow, long targetHigh, long targetLow,
                      long intervalNanos) {
        long now = ctx.executor().ticker().nanoTime();
        Ipv6NeighbourTable.Key key = new Ipv6NeighbourTable.Key(targetHigh, targetLow);
        Long last = lastSolicitationNanos.get(key);
        if (last != null && now - last < intervalNanos) {
            return;
        }
        lastSolicitationNanos.put(key, now);
        if (!isOwn(sourceHigh, sourceLow) && ownAddresses.length > 0) {
            sourceHigh = ownAddresses[0];
            sourceLow = ownAddresses[1];
        }
        boolean unspecified = (sourceHigh | sourceLow) == 0; // then no link-layer option (RFC 4861 7.2.2)
        long solicitedNode = Ipv6Multicast.solicitedNodeLow(targetLow);
        repr.solicitation(targetHigh, targetLow, unspecified ? -1 : mac)
                .addresses(sourceHigh, sourceLow, Ipv6Multicast.LINK_LOCAL_HIGH, solicitedNode);
        send(ctx, Ipv6Multicast.macAddress(solicitedNode));
    }

    private void send(ChannelHandlerContext ctx, long destinationMac) {
        ByteBuf packet = ctx.alloc().buffer(repr.packetLength());
        repr.emitPacket(packet);
        ctx.writeAndFlush(new EthernetFrame(destinationMac, mac, EtherType.IPV6, EthernetHeader.NO_TAG, packet),
                ctx.voidPromise());
    }

    boolean isOwn(long high, long low) {
        for (int i = 0; i < ownAddresses.length; i += 2) {
            if (ownAddresses[i] == high && ownAddresses[i + 1] == low) {
                return true;
            }
        }
        return false;
    }
}
