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
import org.tuntap.codec.ipv6.Ipv6Addresses;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ndp.Ipv6Multicast;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Neighbours on the Ethernet link of a TAP application, between {@code EthernetCodec} and the
 * IP codecs: ARP for IPv4 and, for its IPv6 addresses, neighbour discovery (RFC 4861). Without
 * it the kernel cannot find the application's MAC address and never sends it a packet.
 *
 * <p>Inbound: answers ARP requests for the application's own IPv4 addresses, and neighbour
 * solicitations for its own IPv6 addresses (to its unicast address or the solicited-node
 * multicast one), with its MAC. Like Linux it learns neighbours (IP to MAC) <b>only</b> from
 * ARP (every ARP packet's sender) and neighbour discovery (a solicitation's source link-layer
 * address option, an advertisement's target link-layer address option), never from the
 * source of an ordinary IP packet, so no forged or corrupt frame can point an address at
 * another MAC. ARP frames and neighbour solicitations and advertisements are consumed
 * (malformed ones dropped and counted: see {@code NdpMessage.check}); all other frames pass on.
 * Frames to another unicast MAC are not ours (the kernel's {@code PACKET_OTHERHOST}) and are
 * dropped as {@link DropReason#OTHER_HOST}, unless {@linkplain #setPromiscuous promiscuous}.
 *
 * <p>Outbound: a {@link ByteBuf} written above this handler is an IP packet; it leaves as an
 * {@link EthernetFrame} to the MAC of its destination (IPv4 broadcast and multicast addresses
 * map to their group MACs, IPv6 multicast ones to {@code 33:33} and their low 32 bits). If the
 * destination's MAC is not known yet, the handler sends an ARP request or a neighbour
 * solicitation (at most one per destination per second), <b>drops</b> the packet, counts it as
 * {@link DropReason#UNRESOLVED} and fails the write's promise; the application's retry (or
 * the peer, whose own request teaches us its MAC) gets through. Packets of neither family
 * are dropped as {@link DropReason#UNROUTABLE}. {@link EthernetFrame}s pass untouched.
 *
 * <p>The neighbour tables (one per family) are bounded and age like Linux's (see
 * {@link #setMaxNeighbours}, {@link #setNeighbourSweepInterval}): an entry not confirmed for one
 * sweep interval turns stale (it still resolves, and the next packet to it asks again to
 * confirm it), one
 * not confirmed for two is forgotten; a full table makes room from stale entries or refuses the
 * new one ({@link DropReason#NEIGHBOUR_TABLE_FULL}). {@link #addNeighbour} sets a static entry,
 * which never ages. The timer runs on the channel's event loop (its clock, so a test harness
 * moves it). Not sharable; call the mutators before adding the handler to a pipeline or from
 * its event loop.
 *
 * <p>Between Ethernet and IPv4 it is part of their fused path (see {@link LayerHandler}): IPv4
 * frames go through it in one step with the layers around, and written datagrams to known
 * neighbours too; the rest (ARP, IPv6 and its neighbour discovery, unresolved destinations)
 * takes the layered path.
 */
public final class ArpHandler extends LayerHandler {

    private static final long REQUEST_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final long mac;
    private final int[] ownAddresses;
    private final Ipv6Neighbours ipv6;
    /** Linux's {@code base_reachable_time}: how long an unconfirmed entry stays reachable. */
    public static final long DEFAULT_SWEEP_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final NeighbourTable neighbours = new NeighbourTable();
    private final IntObjectHashMap<Long> lastRequestNanos = new IntObjectHashMap<>();
    private final DropPolicy drops = new DropPolicy(InternalLoggerFactory.getInstance(ArpHandler.class));
    private long sweepIntervalNanos = DEFAULT_SWEEP_INTERVAL_NANOS;
    private boolean promiscuous;
    private ScheduledFuture<?> sweeper;

    /**
     * A handler answering for the application's addresses; the neighbour tables start empty.
     *
     * @param mac          the application's MAC address (unicast)
     * @param ownAddresses the addresses the application answers for (at least one): IPv4 ones
     *                     in ARP, IPv6 ones in neighbour discovery (unicast, 2001:db8::2 say)
     */
    public ArpHandler(MacAddress mac, Collection<? extends InetAddress> ownAddresses) {
        if (mac.isMulticast()) {
            throw new IllegalArgumentException("the interface's MAC address must be unicast: " + mac);
        }
        if (ownAddresses.isEmpty()) {
            throw new IllegalArgumentException("at least one own address is needed");
        }
        this.mac = mac.bits();
        List<Integer> v4 = new ArrayList<>();
        List<Long> v6 = new ArrayList<>();
        for (InetAddress address : ownAddresses) {
            if (address instanceof Inet4Address a) {
                v4.add(Ipv4Addresses.toInt(a));
            } else if (address instanceof Inet6Address a) {
                if (Ipv6Multicast.isMulticast(Ipv6Addresses.high(a)) || a.isAnyLocalAddress()) {
                    throw new IllegalArgumentException("own addresses are unicast: " + a.getHostAddress());
                }
                v6.add(Ipv6Addresses.high(a));
                v6.add(Ipv6Addresses.low(a));
            } else {
                throw new IllegalArgumentException("not an IP address: " + address);
            }
        }
        this.ownAddresses = v4.stream().mapToInt(Integer::intValue).toArray();
        this.ipv6 = new Ipv6Neighbours(this.mac, v6.stream().mapToLong(Long::longValue).toArray(), drops);
    }

    /** The application's MAC address: the source of its frames and the answer to ARP requests. */
    public MacAddress macAddress() {
        return MacAddress.of(mac);
    }

    /** The packets this handler dropped or refused to learn, per reason (readable from any thread). */
    public DropCounters dropCounters() {
        return drops.counters();
    }

    /** Adds or replaces a neighbour entry of either family (a static entry: it never ages). */
    public ArpHandler addNeighbour(InetAddress address, MacAddress neighbourMac) {
        if (address instanceof Inet6Address a) {
            ipv6.table().putStatic(Ipv6Addresses.high(a), Ipv6Addresses.low(a), neighbourMac.bits());
        } else {
            neighbours.putStatic(Ipv4Addresses.toInt((Inet4Address) address), neighbourMac.bits());
        }
        return this;
    }

    /**
     * The most neighbours learned per family (static ones not counted against it). Default 1024,
     * Linux's {@code gc_thresh3}.
     */
    public ArpHandler setMaxNeighbours(int maxNeighbours) {
        neighbours.capacity(maxNeighbours);
        ipv6.table().capacity(maxNeighbours);
        return this;
    }

    /** How often learned entries age one step (reachable, stale, gone). Default 30 s. */
    public ArpHandler setNeighbourSweepInterval(long interval, TimeUnit unit) {
        if (interval <= 0) {
            throw new IllegalArgumentException("interval must be positive: " + interval);
        }
        this.sweepIntervalNanos = unit.toNanos(interval);
        return this;
    }

    /** Strict mode: a malformed ARP or neighbour discovery packet also raises a {@code DecoderException}. Default off. */
    public ArpHandler setStrict(boolean strict) {
        drops.setStrict(strict);
        return this;
    }

    /** Take frames addressed to any MAC, not only ours and group addresses. Default off. */
    public ArpHandler setPromiscuous(boolean promiscuous) {
        this.promiscuous = promiscuous;
        return this;
    }

    /** The neighbour's MAC address (IPv4 or IPv6; multicast ones not included), or null when not known. */
    public MacAddress neighbour(InetAddress address) {
        long bits = address instanceof Inet6Address a
                ? ipv6.table().resolve(Ipv6Addresses.high(a), Ipv6Addresses.low(a))
                : neighbours.resolve(Ipv4Addresses.toInt((Inet4Address) address));
        return bits < 0 ? null : MacAddress.of(bits);
    }

    /** A copy of the neighbour tables: IPv4 entries, then IPv6 ones. */
    public Map<InetAddress, MacAddress> neighbours() {
        Map<InetAddress, MacAddress> copy = new LinkedHashMap<>();
        neighbours.forEach((ip, bits) -> copy.put(Ipv4Addresses.toInet(ip), MacAddress.of(bits)));
        ipv6.table().forEach((high, low, bits) -> copy.put(Ipv6Addresses.toInet(high, low), MacAddress.of(bits)));
        return copy;
    }

    /** Starts the neighbour table's sweep on the channel's event loop. */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        super.handlerAdded(ctx);
        sweeper = ctx.executor().scheduleAtFixedRate(this::sweep, sweepIntervalNanos, sweepIntervalNanos, TimeUnit.NANOSECONDS);
    }

    /** Stops the neighbour table's sweep. */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        super.handlerRemoved(ctx);
        if (sweeper != null) {
            sweeper.cancel(false);
            sweeper = null;
        }
    }

    private void sweep() {
        neighbours.sweep();
        lastRequestNanos.clear(); // bounded too: at most one sweep interval of destinations
        ipv6.sweep();
    }

    /** Frames to another host's unicast MAC are not for us. */
    private boolean isOtherHost(long destinationMac) {
        return !promiscuous && destinationMac != mac && !MacAddress.isMulticast(destinationMac);
    }

    /**
     * Answers and learns from ARP frames and neighbour solicitations and advertisements
     * (consumed), drops frames for other hosts; passes the rest on.
     */
    @Override
    protected void read(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof EthernetFrame frame) {
            if (isOtherHost(frame.destinationBits())) {
                frame.release();
                drops.drop(ctx, DropReason.OTHER_HOST, MacAddress.of(frame.destinationBits()));
                return;
            }
            if (frame.etherType() == EtherType.ARP) {
                try {
                    handleArp(ctx, frame);
                } finally {
                    frame.release();
                }
                return;
            }
            if (frame.etherType() == EtherType.IPV6) {
                boolean consumed;
                try {
                    consumed = ipv6.read(ctx, frame);
                } catch (RuntimeException strictDrop) {
                    frame.release();
                    throw strictDrop;
                }
                if (consumed) {
                    frame.release();
                    return;
                }
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

    /** Remembers a unicast neighbour; allocates only when the entry changes. */
    private void learn(int ip, long neighbourMac) {
        if (ip == 0 || MacAddress.isMulticast(neighbourMac) || neighbourMac == 0 || isOwn(ip) || isGroup(ip)) {
            return;
        }
        if (!neighbours.learn(ip, neighbourMac)) {
            drops.counters().increment(DropReason.NEIGHBOUR_TABLE_FULL);
        }
    }

    /**
     * Sends a written IP {@link ByteBuf} as an {@link EthernetFrame} to its destination's MAC, or
     * drops it (see above); passes anything else on.
     */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf packet)) {
            ctx.write(msg, promise);
            return;
        }
        int at = packet.readerIndex();
        if (packet.readableBytes() >= Ipv6Header.LENGTH && Ipv6Header.version(packet, at) == 6) {
            writeIpv6(ctx, packet, promise);
            return;
        }
        if (packet.readableBytes() < Ipv4Header.MIN_LENGTH || Ipv4Header.version(packet, at) != 4) {
            drops.dropOutbound(ctx, DropReason.UNROUTABLE, packet.readableBytes() + " bytes, neither IPv4 nor IPv6");
            ReferenceCountUtil.release(packet);
            promise.tryFailure(new IllegalArgumentException("ArpHandler: only IPv4 and IPv6 packets can be sent over Ethernet"));
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
        if (neighbours.isStale(destination)) { // still sent; ask the neighbour to confirm
            requestIfDue(ctx, Ipv4Header.source(packet, at), destination);
        }
        ctx.write(new EthernetFrame(destinationMac, mac, EtherType.IPV4, EthernetHeader.NO_TAG, packet), promise);
    }

    private void writeIpv6(ChannelHandlerContext ctx, ByteBuf packet, ChannelPromise promise) {
        int at = packet.readerIndex();
        long high = Ipv6Header.destinationHigh(packet, at);
        long low = Ipv6Header.destinationLow(packet, at);
        long destinationMac = ipv6.resolve(high, low);
        if (destinationMac < 0 || ipv6.isStale(high, low)) {
            ipv6.solicitIfDue(ctx, Ipv6Header.sourceHigh(packet, at), Ipv6Header.sourceLow(packet, at), high, low,
                    REQUEST_INTERVAL_NANOS);
        }
        if (destinationMac < 0) {
            String destination = Ipv6Addresses.toString(high, low);
            drops.dropOutbound(ctx, DropReason.UNRESOLVED, destination);
            ReferenceCountUtil.release(packet);
            promise.tryFailure(new UnresolvedNeighbourException(destination));
            return;
        }
        ctx.write(new EthernetFrame(destinationMac, mac, EtherType.IPV6, EthernetHeader.NO_TAG, packet), promise);
    }

    /** The MAC for an IPv4 destination as bits, or -1 when unknown. */
    private long resolve(int ip) {
        if (ip == -1) {
            return MacAddress.BROADCAST.bits();
        }
        if ((ip >>> 28) == 0xE) { // 224.0.0.0/4: 01:00:5e + the low 23 bits (RFC 1112)
            return 0x01005E000000L | (ip & 0x7FFFFF);
        }
        return neighbours.resolve(ip);
    }

    private void requestIfDue(ChannelHandlerContext ctx, int source, int target) {
        long now = ctx.executor().ticker().nanoTime();
        Long last = lastRequestNanos.get(target);
        if (last != null && now - last < REQUEST_INTERVAL_NANOS) {
            return;
        }
        lastRequestNanos.put(target, Long.valueOf(now));
        int senderIp = isOwn(source) || ownAddresses.length == 0 ? source : ownAddresses[0];
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

    /** Why a write was dropped: the destination's MAC address is not known yet (an ARP request or a neighbour solicitation went out). */
    public static final class UnresolvedNeighbourException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UnresolvedNeighbourException(String destination) {
            super("no MAC address known for " + destination + " yet; asked for it (ARP or neighbour solicitation)"
                    + " and dropped the packet");
        }
    }

    // ---- fused path: IPv4 frames ----

    /** What follows an Ethernet header. */
    @Override
    protected Bytes fusedTakes() {
        return Bytes.ETHERNET_PAYLOAD;
    }

    /** IP packets: ARP adds no header of its own. */
    @Override
    protected Bytes fusedYields() {
        return Bytes.IP_PACKET;
    }

    /** None: IPv4 frames carry no ARP header. */
    @Override
    protected int fusedHeaderLength() {
        return 0;
    }

    /** Accepts IPv4 frames for us (any MAC when promiscuous); ARP and IPv6 frames take the layered path. */
    @Override
    protected int fusedDecode(ByteBuf buf, int index, FusedFields fields) {
        return fields.etherType() == EtherType.IPV4 && !isOtherHost(fields.destinationMac()) ? index : -1;
    }

    /**
     * Records the destination's MAC, ours and the ethertype; unknown and stale neighbours take the
     * layered path, which sends the ARP request.
     */
    @Override
    protected boolean fusedRoute(FusedFields fields) {
        long destinationMac = resolve(fields.destination());
        if (destinationMac < 0 || neighbours.isStale(fields.destination())) {
            return false; // the layered path asks for it (and counts the drop, or confirms the stale entry)
        }
        fields.destinationMac(destinationMac);
        fields.sourceMac(mac);
        fields.etherType(EtherType.IPV4);
        return true;
    }
}
