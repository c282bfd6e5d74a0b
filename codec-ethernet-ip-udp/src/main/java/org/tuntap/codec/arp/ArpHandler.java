package org.tuntap.codec.arp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.tuntap.codec.DropCounters;
import org.tuntap.codec.DropPolicy;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.FusedFields;
import org.tuntap.codec.LayerHandler;
import org.tuntap.codec.ethernet.EthernetFrame;
import org.tuntap.codec.ethernet.EthernetHeader;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.ipv4.Ipv4Addresses;
import org.tuntap.codec.ipv4.Ipv4Header;

import java.net.Inet4Address;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * ARP for a TAP application, between {@code EthernetCodec} and {@code Ipv4Codec}: without it
 * the kernel cannot find the application's MAC address and never sends it a packet.
 *
 * <p>Inbound: answers ARP requests for the application's own IPv4 addresses with its MAC;
 * learns neighbours (IP to MAC) from every ARP packet's sender and from the source of every
 * IPv4 frame. ARP frames are consumed; all other frames pass on.
 *
 * <p>Outbound: a {@link ByteBuf} written above this handler is an IPv4 packet; it leaves as an
 * {@link EthernetFrame} to the MAC of its destination (broadcast and multicast addresses map
 * to their group MACs). If the destination's MAC is not known yet, the handler sends an ARP
 * request (at most one per destination per second), <b>drops</b> the packet, counts it as
 * {@link DropReason#UNRESOLVED} and fails the write's promise; the application's retry (or
 * the peer, whose own ARP request teaches us its MAC) gets through. Packets that are not IPv4
 * are dropped as {@link DropReason#UNROUTABLE}. {@link EthernetFrame}s pass untouched.
 *
 * <p>Entries never expire; {@link #addNeighbour} sets one statically. Not sharable; call the
 * mutators before adding the handler to a pipeline or from its event loop.
 *
 * <p>Between Ethernet and IPv4 it is part of their fused path (see {@link LayerHandler}): IPv4
 * frames go through it in one step with the layers around, and written datagrams to known
 * neighbours too; the rest (ARP itself, unresolved destinations) takes the layered path.
 */
public final class ArpHandler extends LayerHandler {

    private static final long REQUEST_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final long mac;
    private final int[] ownAddresses;
    private final IntObjectHashMap<MacAddress> neighbours = new IntObjectHashMap<>();
    private final IntObjectHashMap<Long> lastRequestNanos = new IntObjectHashMap<>();
    private final DropPolicy drops = new DropPolicy(InternalLoggerFactory.getInstance(ArpHandler.class));

    /**
     * @param mac          the application's MAC address (unicast)
     * @param ownAddresses the IPv4 addresses the application answers ARP requests for (at least one)
     */
    public ArpHandler(MacAddress mac, Collection<Inet4Address> ownAddresses) {
        if (mac.isMulticast()) {
            throw new IllegalArgumentException("the interface's MAC address must be unicast: " + mac);
        }
        if (ownAddresses.isEmpty()) {
            throw new IllegalArgumentException("at least one own IPv4 address is needed");
        }
        this.mac = mac.bits();
        this.ownAddresses = ownAddresses.stream().mapToInt(Ipv4Addresses::toInt).toArray();
    }

    public MacAddress macAddress() {
        return MacAddress.of(mac);
    }

    public DropCounters dropCounters() {
        return drops.counters();
    }

    /** Adds or replaces a neighbour entry (a static ARP entry). */
    public ArpHandler addNeighbour(Inet4Address address, MacAddress neighbourMac) {
        neighbours.put(Ipv4Addresses.toInt(address), neighbourMac);
        return this;
    }

    /** The neighbour's MAC address, or null when not known. */
    public MacAddress neighbour(Inet4Address address) {
        return neighbours.get(Ipv4Addresses.toInt(address));
    }

    /** A copy of the neighbour table. */
    public Map<Inet4Address, MacAddress> neighbours() {
        Map<Inet4Address, MacAddress> copy = new LinkedHashMap<>();
        for (IntObjectHashMap.PrimitiveEntry<MacAddress> e : neighbours.entries()) {
            copy.put(Ipv4Addresses.toInet(e.key()), e.value());
        }
        return copy;
    }

    @Override
    protected void read(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof EthernetFrame frame) {
            if (frame.etherType() == EtherType.ARP) {
                try {
                    handleArp(ctx, frame);
                } finally {
                    frame.release();
                }
                return;
            }
            if (frame.etherType() == EtherType.IPV4) {
                learnFromIpv4(frame);
            }
        }
        ctx.fireChannelRead(msg);
    }

    private void handleArp(ChannelHandlerContext ctx, EthernetFrame frame) {
        ByteBuf arp = frame.content();
        int at = arp.readerIndex();
        DropReason problem = ArpPacket.check(arp, at, arp.readableBytes());
        if (problem != null) {
            drops.drop(ctx, problem, frame);
            return;
        }
        int senderIp = ArpPacket.senderIp(arp, at);
        long senderMac = ArpPacket.senderMac(arp, at);
        learn(senderIp, senderMac);
        int targetIp = ArpPacket.targetIp(arp, at);
        if (ArpPacket.operation(arp, at) == ArpPacket.REQUEST && isOwn(targetIp) && !MacAddress.isMulticast(senderMac)) {
            ByteBuf reply = ctx.alloc().buffer(ArpPacket.LENGTH);
            ArpPacket.write(reply, ArpPacket.REPLY, mac, targetIp, senderMac, senderIp);
            ctx.writeAndFlush(new EthernetFrame(senderMac, mac, EtherType.ARP, EthernetHeader.NO_TAG, reply), ctx.voidPromise());
        }
    }

    private void learnFromIpv4(EthernetFrame frame) {
        ByteBuf ip = frame.content();
        int at = ip.readerIndex();
        if (ip.readableBytes() >= Ipv4Header.MIN_LENGTH && Ipv4Header.version(ip, at) == 4) {
            learn(Ipv4Header.source(ip, at), frame.sourceBits());
        }
    }

    /** Remembers a unicast neighbour; allocates only when the entry changes. */
    private void learn(int ip, long neighbourMac) {
        if (ip == 0 || MacAddress.isMulticast(neighbourMac) || neighbourMac == 0 || isOwn(ip) || isGroup(ip)) {
            return;
        }
        MacAddress known = neighbours.get(ip);
        if (known == null || known.bits() != neighbourMac) {
            neighbours.put(ip, MacAddress.of(neighbourMac));
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf packet)) {
            ctx.write(msg, promise);
            return;
        }
        int at = packet.readerIndex();
        if (packet.readableBytes() < Ipv4Header.MIN_LENGTH || Ipv4Header.version(packet, at) != 4) {
            drops.dropOutbound(ctx, DropReason.UNROUTABLE, packet.readableBytes() + " bytes, not IPv4");
            ReferenceCountUtil.release(packet);
            promise.tryFailure(new IllegalArgumentException("ArpHandler: only IPv4 packets can be sent over Ethernet"));
            return;
        }
        int destination = Ipv4Header.destination(packet, at);
        long destinationMac = resolve(destination);
        if (destinationMac < 0) {
            requestIfDue(ctx, Ipv4Header.source(packet, at), destination);
            drops.dropOutbound(ctx, DropReason.UNRESOLVED, Ipv4Addresses.toString(destination));
            ReferenceCountUtil.release(packet);
            promise.tryFailure(new UnresolvedNeighbourException(Ipv4Addresses.toString(destination)));
            return;
        }
        ctx.write(new EthernetFrame(destinationMac, mac, EtherType.IPV4, EthernetHeader.NO_TAG, packet), promise);
    }

    /** The MAC for an IPv4 destination as bits, or -1 when unknown. */
    private long resolve(int ip) {
        if (ip == -1) {
            return MacAddress.BROADCAST.bits();
        }
        if ((ip >>> 28) == 0xE) { // 224.0.0.0/4: 01:00:5e + the low 23 bits (RFC 1112)
            return 0x01005E000000L | (ip & 0x7FFFFF);
        }
        MacAddress known = neighbours.get(ip);
        return known == null ? -1 : known.bits();
    }

    private void requestIfDue(ChannelHandlerContext ctx, int source, int target) {
        long now = System.nanoTime();
        Long last = lastRequestNanos.get(target);
        if (last != null && now - last < REQUEST_INTERVAL_NANOS) {
            return;
        }
        lastRequestNanos.put(target, Long.valueOf(now));
        int senderIp = isOwn(source) ? source : ownAddresses[0];
        ByteBuf request = ctx.alloc().buffer(ArpPacket.LENGTH);
        ArpPacket.write(request, ArpPacket.REQUEST, mac, senderIp, 0, target);
        ctx.writeAndFlush(new EthernetFrame(MacAddress.BROADCAST.bits(), mac, EtherType.ARP, EthernetHeader.NO_TAG, request),
                ctx.voidPromise());
    }

    private boolean isOwn(int ip) {
        for (int own : ownAddresses) {
            if (own == ip) {
                return true;
            }
        }
        return false;
    }

    private static boolean isGroup(int ip) {
        return ip == -1 || (ip >>> 28) == 0xE;
    }

    /** Why a write was dropped: the destination's MAC address is not known yet (an ARP request went out). */
    public static final class UnresolvedNeighbourException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UnresolvedNeighbourException(String destination) {
            super("no MAC address known for " + destination + " yet; sent an ARP request and dropped the packet");
        }
    }

    // ---- fused path: IPv4 frames ----

    @Override
    protected Bytes fusedTakes() {
        return Bytes.ETHERNET_PAYLOAD;
    }

    @Override
    protected Bytes fusedYields() {
        return Bytes.IP_PACKET;
    }

    @Override
    protected int fusedHeaderLength() {
        return 0;
    }

    @Override
    protected int fusedDecode(ByteBuf buf, int index, FusedFields fields) {
        return fields.etherType() == EtherType.IPV4 ? index : -1;
    }

    @Override
    protected void fusedAccepted(FusedFields fields) {
        learn(fields.source(), fields.sourceMac());
    }

    @Override
    protected boolean fusedRoute(FusedFields fields) {
        long destinationMac = resolve(fields.destination());
        if (destinationMac < 0) {
            return false; // the layered path asks for it and counts the drop
        }
        fields.destinationMac(destinationMac);
        fields.sourceMac(mac);
        fields.etherType(EtherType.IPV4);
        return true;
    }
}
