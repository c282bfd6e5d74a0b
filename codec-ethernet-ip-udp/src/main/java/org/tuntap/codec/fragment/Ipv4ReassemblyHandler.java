package org.tuntap.codec.fragment;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.LayerHandler;
import org.tuntap.codec.ParseResult;
import org.tuntap.codec.icmp.IcmpTimeExceeded;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv4.Ipv4Packet;

/**
 * Reassembles IPv4 datagrams in the pipeline: put it right after an {@link Ipv4Codec} with
 * {@link Ipv4Codec#setPassFragments setPassFragments(true)}, before the UDP layer. Fragments are
 * held in a {@link FragmentReassembler} (bounded like Linux; overlaps drop the datagram, as the
 * kernel does); when one completes its datagram, the whole packet goes on as an
 * {@link Ipv4Packet}: the first fragment's header (copied, total length set, fragment field
 * cleared, checksum recomputed), then the payload, the fragments' data not copied.
 *
 * <p>Expiry runs on the channel's event loop by its own clock (so {@code TunnelHarness.advanceTimeBy}
 * expires datagrams in tests), and everything held is released when the handler is removed (and
 * so when the channel closes). Whole packets pass untouched, and the handler is transparent to
 * the fused path of the layers around it (see {@link LayerHandler}): fragments never take it.
 */
public final class Ipv4ReassemblyHandler extends ReassemblyHandler {

    /** With Linux's limits ({@link ReassemblyLimits#DEFAULT}). */
    public Ipv4ReassemblyHandler() {
        this(ReassemblyLimits.DEFAULT);
    }

    /** With the given limits on bytes held, time and fragments per datagram. */
    public Ipv4ReassemblyHandler(ReassemblyLimits limits) {
        super(limits);
    }

    /** See {@link ReassemblyHandler#setSendTimeExceeded}. */
    @Override
    public Ipv4ReassemblyHandler setSendTimeExceeded(boolean sendTimeExceeded) {
        super.setSendTimeExceeded(sendTimeExceeded);
        return this;
    }

    /** Takes IPv4 fragments (passing on a datagram once whole); passes everything else on. */
    @Override
    protected void read(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Ipv4Packet packet) || !packet.isFragment()) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf buf = packet.content();
        FragmentKey key = FragmentKey.ipv4(packet.sourceInt(), packet.destinationInt(), packet.protocol(),
                packet.identification());
        // The buffer goes with the packet's reference: held, or released.
        offer(ctx, key, buf, packet.payloadIndex(), packet.payloadLength(),
                packet.fragmentOffset() << 3, packet.moreFragments());
    }

    /** ICMPv4 "time exceeded" for the datagram of this first fragment (see {@link IcmpTimeExceeded}). */
    @Override
    protected Object timeExceeded(ByteBufAllocator alloc, ByteBuf firstFragment) {
        return IcmpTimeExceeded.forIpv4(alloc, firstFragment);
    }

    /** The whole packet from the first fragment's header and the payload; null, counted, if not a valid one. */
    @Override
    protected Ipv4Packet rebuild(ChannelHandlerContext ctx, Reassembled whole) {
        try {
            ByteBuf first = whole.header();
            int headerLength = first.readableBytes();
            int totalLength = headerLength + whole.content().readableBytes();
            if (totalLength > Ipv4Header.MAX_TOTAL_LENGTH) {
                countDrop(DropReason.FRAGMENT_INCONSISTENT);
                return null;
            }
            ByteBuf header = ctx.alloc().buffer(headerLength);
            header.writeBytes(first, first.readerIndex(), headerLength);
            Ipv4Header.setTotalLength(header, 0, totalLength);
            Ipv4Header.clearFragment(header, 0);
            Ipv4Header.updateChecksum(header, 0);
            CompositeByteBuf packet = ctx.alloc().compositeBuffer(2);
            packet.addComponent(true, header);
            packet.addComponent(true, whole.content().retain());
            ParseResult<Ipv4Packet> parsed = Ipv4Packet.parse(packet, true);
            packet.release(); // the parsed packet holds its own reference
            if (!parsed.isOk()) {
                countDrop(parsed.failure());
                return null;
            }
            return parsed.value();
        } finally {
            whole.release();
        }
    }

    /**
     * Transparent to the fused path, over what follows an IPv4 header: whole packets go through
     * untouched, and the IPv4 layer sends fragments the layered way.
     */
    @Override
    protected Bytes fusedTransparentOver() {
        return Bytes.IPV4_PAYLOAD;
    }
}
