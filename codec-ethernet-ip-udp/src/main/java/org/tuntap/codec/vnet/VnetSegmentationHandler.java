package org.tuntap.codec.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.tuntap.codec.DropCounters;
import org.tuntap.codec.DropPolicy;
import org.tuntap.codec.DropReason;

/**
 * Inbound, on a {@code TunChannel} with the transport's {@code VNET_HDR} option on: turns what
 * the device reads (a {@link VirtioNetHeader} and an IP packet or, on TAP, an Ethernet frame
 * behind it) into ordinary packets for the layers above ({@code Ipv6Codec}, {@code Ipv4Codec},
 * {@code EthernetCodec}, or the application).
 *
 * <ul>
 *   <li>A TCP or UDP super-packet (TSO4, TSO6, USO4, USO6) is split by {@link GsoSegmenter}
 *       into packets of gso_size payload bytes with complete checksums; each is fired on as a
 *       {@link ByteBuf}, and the super-packet is released.</li>
 *   <li>An ordinary packet whose checksum the kernel left partial (NEEDS_CSUM, with the
 *       {@code CSUM} offload) has it completed in place ({@link PartialChecksum}).</li>
 *   <li>Every packet goes on without the header (its reader index moved past it).</li>
 * </ul>
 *
 * A header that does not fit its packet (see {@link VnetPacketLayout#parse}) is a counted drop
 * ({@link DropReason#BAD_VNET_HEADER}, {@link DropReason#UNSUPPORTED_GSO}, or the IP/TCP/UDP
 * reason), never an exception unless {@link #setStrict strict}. Messages other than
 * {@code ByteBuf}s pass through. On the way out, {@link VnetHeaderEncoder} puts the empty header
 * back in front of each packet (or a coalescing handler writes super-packets).
 *
 * <p>Place it first, right after the channel, on a channel without {@code PACKET_INFO} (with
 * it, the PI header would come before the virtio-net header). On a TAP device use
 * {@link #forEthernet()}: the packets are Ethernet frames, and each segment of a super-packet
 * carries a copy of its Ethernet header. One instance per channel: it keeps the parsed layout
 * between reads.
 */
public final class VnetSegmentationHandler extends ChannelInboundHandlerAdapter {

    private final DropPolicy drops = new DropPolicy(InternalLoggerFactory.getInstance(VnetSegmentationHandler.class));
    private final VnetPacketLayout layout;

    /** For IP packets (a TUN device): quiet drops, nothing counted yet. */
    public VnetSegmentationHandler() {
        this(new VnetPacketLayout());
    }

    private VnetSegmentationHandler(VnetPacketLayout layout) {
        this.layout = layout;
    }

    /** For Ethernet frames (a TAP device): quiet drops, nothing counted yet. */
    public static VnetSegmentationHandler forEthernet() {
        return new VnetSegmentationHandler(VnetPacketLayout.forEthernet());
    }

    /** Raise a {@code DecoderException} for every drop (after counting it). Default off. */
    public VnetSegmentationHandler setStrict(boolean strict) {
        drops.setStrict(strict);
        return this;
    }

    /** The packets this handler dropped, per reason (readable from any thread). */
    public DropCounters dropCounters() {
        return drops.counters();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf read)) {
            ctx.fireChannelRead(msg);
            return;
        }
        int header = read.readerIndex();
        int length = read.readableBytes() - VirtioNetHeader.LENGTH;
        DropReason reason = length < 0 ? DropReason.TRUNCATED
                : layout.parse(read, header, read, header + VirtioNetHeader.LENGTH, length);
        if (reason != null) {
            String detail = length < 0 ? read.readableBytes() + " bytes" : VirtioNetHeader.toString(read, header);
            read.release();
            drops.drop(ctx, reason, detail);
            return;
        }
        int packet = header + VirtioNetHeader.LENGTH;
        if (layout.isGso()) {
            try {
                GsoSegmenter.segment(ctx.alloc(), read, packet, layout, ctx::fireChannelRead);
            } finally {
                read.release();
            }
            return;
        }
        if (layout.needsChecksum()) {
            PartialChecksum.complete(read, packet, length, layout.checksumStart(), layout.checksumOffset());
        }
        ctx.fireChannelRead(read.readerIndex(packet));
    }
}
