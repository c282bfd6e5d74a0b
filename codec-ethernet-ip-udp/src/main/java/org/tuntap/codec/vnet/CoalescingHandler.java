package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import org.tuntap.codec.FusedFields;
import org.tuntap.codec.FusedWriteMerger;
import org.tuntap.codec.ethernet.EthernetHeader;

import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Coalescing on the way out (GRO, as wireguard-go's tables do it) for a channel with the
 * transport's {@code VNET_HDR} option: the IP packets written between two flushes are held, and
 * at the flush the TCP segments and UDP datagrams of one flow become one super-packet of up to
 * 64 KiB with a virtio-net header, which the kernel takes in one write and segments again into
 * exactly the packets that were written (see {@link CoalescedGroup} for the rules,
 * {@link SuperPacket} for the header). Everything else goes out as it is, behind the empty
 * header, in the order written; a flow's packets never pass each other.
 *
 * <p>Put it right after the channel, below the IP codecs: the fused path writes its finished
 * packets into it. (Leave packet information off: {@code PiCodec} takes the protocol from the
 * packet's first byte, which would be this header's.) Only the offloads
 * the kernel accepted may be used: give it the channel's applied offloads once bound
 * ({@code GsoOffload.fromNames(tun.config().getAppliedOffloads())}); with none it only
 * prepends the empty header, holding nothing. TSO4/TSO6 merge TCP, USO4/USO6 UDP.
 *
 * <p>The fused path's datagrams (UDP over IPv4, from {@code UdpCodec} on top of {@code Ipv4Codec}
 * with only inbound handlers between them and this one) are merged as they are written, not at
 * the flush: the handler is the stack's {@link FusedWriteMerger}. A datagram of the same flow as
 * the one before it joins that one's super-packet with its payload alone (see
 * {@link OpenSuperPacket}), anything else starts the next; so a flow's datagrams merge as long
 * as no other flow's come between them. A packet written any other way ends the open
 * super-packet first, and while packets are held the fused path's are held with them.
 *
 * <p>On a TAP device use {@link #forEthernet}: the packets are Ethernet frames, and only the
 * fused path's datagrams merge (behind one Ethernet header, theirs the same); frames written
 * any other way (ARP, NDP, anything the layered path sends) go out as they are, in order.
 *
 * <p>A merged packet's write promise completes when its super-packet's write does. Nothing is
 * held across a flush; a close fails and releases what is held, and a handler removed passes it
 * on unmerged.
 */
public final class CoalescingHandler extends ChannelDuplexHandler implements FusedWriteMerger {

    /** Super-packets the fused path starts with room for, until one has shown how many join. */
    private static final int FIRST_EXPECTED_SEGMENTS = 8;

    /** The bytes in front of a packet's IP header: 0 on TUN, the Ethernet header's on TAP. */
    private final int linkHeaderLength;
    private volatile EnumSet<GsoOffload> offloads;
    private List<HeldPacket> held = new ArrayList<>();
    private boolean flushing;
    private ChannelHandlerContext context;
    /** The super-packet the fused path above is writing into (USO4), or null. */
    private OpenSuperPacket open;
    /** How many datagrams the last fused super-packet took: the room the next one starts with. */
    private int expectedSegments = FIRST_EXPECTED_SEGMENTS;

    /** A handler for IP packets (TUN) that may use {@code offloads}, the segmentation offloads the kernel accepted. */
    public CoalescingHandler(Set<GsoOffload> offloads) {
        this(0, offloads);
    }

    private CoalescingHandler(int linkHeaderLength, Set<GsoOffload> offloads) {
        this.linkHeaderLength = linkHeaderLength;
        setOffloads(offloads);
    }

    /** A handler for Ethernet frames (TAP) that may use {@code offloads}; only the fused path merges. */
    public static CoalescingHandler forEthernet(Set<GsoOffload> offloads) {
        return new CoalescingHandler(EthernetHeader.LENGTH, offloads);
    }

    /** Changes the offloads it may use, say once the channel is bound; applies from the next flush. */
    public CoalescingHandler setOffloads(Set<GsoOffload> offloads) {
        EnumSet<GsoOffload> copy = EnumSet.noneOf(GsoOffload.class);
        copy.addAll(offloads);
        this.offloads = copy;
        return this;
    }

    /** The offloads it may use. */
    public Set<GsoOffload> offloads() {
        return EnumSet.copyOf(offloads);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        context = ctx;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        writeOpen(); // written before this one: it leaves first
        if (linkHeaderLength > 0 || offloads.isEmpty() && held.isEmpty()) {
            // Frames are not merged at the flush (their link headers are not compared): nothing to hold for.
            writeAsItIs(ctx, msg, promise); // nothing to merge with: no reason to hold it
            return;
        }
        held.add(new HeldPacket(msg, promise));
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        writeOpen();
        if (!flushing) {
            flushing = true;
            try {
                // A write's listener may write and flush again meanwhile: those go out after this batch.
                while (!held.isEmpty()) {
                    List<HeldPacket> batch = held;
                    held = new ArrayList<>();
                    writeOut(ctx, batch);
                }
            } finally {
                flushing = false;
            }
        }
        ctx.flush();
    }

    // ---- the fused path's datagrams, merged as they are written (FusedWriteMerger) ----

    /**
     * The fused stack's datagram joins the open super-packet when the rules allow
     * ({@link OpenSuperPacket}): its payload is copied there, nothing else built.
     */
    @Override
    public boolean join(FusedFields fields, ByteBuf payload, ChannelPromise promise) {
        return open != null && open.join(fields, payload, promise);
    }

    /**
     * A buffer for the next super-packet, the empty virtio-net header written: only with USO4,
     * for the packets of this handler's device (IP packets, or frames), and only while nothing is
     * held (held packets were written first and must leave first).
     */
    @Override
    public ByteBuf startBuffer(int linkHeaderLength, int headerLength, int payloadLength) {
        if (context == null || linkHeaderLength != this.linkHeaderLength || !held.isEmpty()
                || !offloads.contains(GsoOffload.USO4)) {
            return null;
        }
        int room = Math.min(CoalescedGroup.MAX_PACKET_LENGTH,
                headerLength + (int) Math.min((long) payloadLength * expectedSegments, CoalescedGroup.MAX_PACKET_LENGTH));
        return VirtioNetHeader.writeEmpty(context.alloc().ioBuffer(VirtioNetHeader.LENGTH + room));
    }

    /** Writes the open super-packet, then opens the next with the stack's packet. */
    @Override
    public void open(FusedFields fields, ByteBuf packet, ChannelPromise promise) {
        writeOpen();
        open = new OpenSuperPacket(fields, packet, linkHeaderLength, promise);
    }

    /** Seals the open super-packet and writes it on (not flushed), its datagrams' promises with it. */
    private void writeOpen() {
        OpenSuperPacket sealing = open;
        if (sealing == null) {
            return;
        }
        open = null;
        expectedSegments = sealing.segments();
        ByteBuf packet = sealing.seal();
        List<ChannelPromise> promises = sealing.promises();
        if (sealing.segments() == 1) {
            context.write(packet, sealing.firstPromise());
        } else if (promises.isEmpty()) {
            context.write(packet, context.voidPromise());
        } else {
            context.write(packet).addListener(new MergedWritePromises(promises));
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        failHeld(new ClosedChannelException());
        ctx.close(promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        failHeld(new ClosedChannelException());
        ctx.fireChannelInactive();
    }

    /** Passes what it holds on unmerged (it was written, not yet flushed: the next flush sends it). */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        writeOpen();
        List<HeldPacket> batch = held;
        held = new ArrayList<>();
        for (HeldPacket packet : batch) {
            writeAsItIs(ctx, packet.message, packet.promise);
        }
    }

    private void writeOut(ChannelHandlerContext ctx, List<HeldPacket> batch) {
        List<CoalescedGroup> groups;
        try {
            groups = group(batch, offloads);
        } catch (RuntimeException bug) {
            // Reading headers is bounds-checked and should never throw; if it does, merge nothing.
            groups = new ArrayList<>(batch.size());
            for (HeldPacket packet : batch) {
                groups.add(new CoalescedGroup(packet));
            }
        }
        for (CoalescedGroup group : groups) {
            if (group.members().size() == 1) {
                HeldPacket only = group.first();
                writeAsItIs(ctx, only.message, only.promise);
            } else {
                writeSuperPacket(ctx, group);
            }
        }
    }

    /**
     * The batch as groups, in the order of each group's first packet: a packet joins the latest
     * group of its flow when the rules allow, else starts its flow's next group (so a packet that
     * cannot be merged still ends its flow's group, and no packet passes another of its flow).
     */
    private static List<CoalescedGroup> group(List<HeldPacket> batch, Set<GsoOffload> allowed) {
        List<CoalescedGroup> groups = new ArrayList<>(batch.size());
        Map<FlowKey, CoalescedGroup> open = new HashMap<>();
        for (HeldPacket packet : batch) {
            packet.readHeaders(allowed);
            CoalescedGroup group = packet.flow == null ? null : open.get(packet.flow);
            if (group != null && group.tryAppend(packet)) {
                continue;
            }
            group = new CoalescedGroup(packet);
            groups.add(group);
            if (packet.flow != null) {
                open.put(packet.flow, group);
            }
        }
        return groups;
    }

    private static void writeSuperPacket(ChannelHandlerContext ctx, CoalescedGroup group) {
        MergedWritePromises promises = MergedWritePromises.of(group.members());
        ByteBuf superPacket;
        try {
            superPacket = SuperPacket.build(ctx.alloc(), group);
        } catch (Throwable t) {
            promises.fail(t);
            return;
        } finally {
            for (HeldPacket member : group.members()) {
                ReferenceCountUtil.safeRelease(member.message);
            }
        }
        if (promises.allVoid()) {
            ctx.write(superPacket, ctx.voidPromise());
        } else {
            ctx.write(superPacket).addListener(promises);
        }
    }

    private static void writeAsItIs(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf packet)) {
            ctx.write(msg, promise);
            return;
        }
        ByteBuf framed;
        try {
            framed = EmptyVnetHeader.prepend(ctx.alloc(), packet);
        } catch (Throwable t) {
            promise.tryFailure(t);
            return;
        }
        ctx.write(framed, promise);
    }

    private void failHeld(Throwable cause) {
        OpenSuperPacket failing = open;
        open = null;
        if (failing != null) {
            failing.fail(cause);
        }
        List<HeldPacket> batch = held;
        held = new ArrayList<>();
        for (HeldPacket packet : batch) {
            ReferenceCountUtil.safeRelease(packet.message);
            packet.promise.tryFailure(cause);
        }
    }
}
