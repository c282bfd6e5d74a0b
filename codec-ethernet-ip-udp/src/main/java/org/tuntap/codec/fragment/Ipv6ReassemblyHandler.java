package org.tuntap.codec.fragment;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.ParseResult;
import org.tuntap.codec.icmp.IcmpTimeExceeded;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.ipv6.Ipv6ExtensionHeader;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ipv6.Ipv6Packet;


/**
 * Reassembles IPv6 datagrams in the pipeline: put it right after an {@link Ipv6Codec} with
 * {@link Ipv6Codec#setPassFragments setPassFragments(true)}. Fragments are held in a
 * {@link FragmentReassembler}; when one completes its datagram, the whole packet (the first
 * fragment's headers without the fragment header, then the payload, nothing copied but the
 * headers) goes on as an {@link Ipv6Packet}. Every other message passes untouched.
 *
 * <p>Expiry runs on the channel's event loop, scheduled for the oldest datagram's deadline on
 * the loop's own clock (so a test moving the loop's ticker, e.g. {@code TunnelHarness.advanceTimeBy},
 * expires them with no sleep). Everything held is released when the handler is removed (and so
 * when the channel closes).
 *
 * <p>Between {@link Ipv6Codec} and an IPv4 layer it is transparent to their fused path: the IPv4
 * packets that path carries go through it untouched (IPv6 takes the layered path, where this
 * handler sees it).
 */
public final class Ipv6ReassemblyHandler extends ReassemblyHandler {

    /** With Linux's limits ({@link ReassemblyLimits#DEFAULT}). */
    public Ipv6ReassemblyHandler() {
        this(ReassemblyLimits.DEFAULT);
    }

    /** With the given limits on bytes held, time and fragments per datagram. */
    public Ipv6ReassemblyHandler(ReassemblyLimits limits) {
        super(limits);
    }

    /** See {@link ReassemblyHandler#setSendTimeExceeded}. */
    @Override
    public Ipv6ReassemblyHandler setSendTimeExceeded(boolean sendTimeExceeded) {
        super.setSendTimeExceeded(sendTimeExceeded);
        return this;
    }

    /** Takes IPv6 fragments (passing on a datagram once whole); passes everything else on. */
    @Override
    protected void read(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Ipv6Packet packet) || !packet.isFragment()) {
            ctx.fireChannelRead(msg);
            return;
        }
        FragmentKey key = FragmentKey.ipv6(packet.sourceHigh(), packet.sourceLow(), packet.destinationHigh(),
                packet.destinationLow(), packet.fragmentIdentification());
        // The fragmentable part starts right after the fragment header (in a first fragment, any
        // extension headers after it are part of it). The buffer goes with the packet's reference.
        int data = packet.fragmentHeaderIndex() + Ipv6ExtensionHeader.FRAGMENT_LENGTH;
        int end = packet.content().readerIndex() + Ipv6Header.LENGTH + packet.payloadLength();
        offer(ctx, key, packet.content(), data, end - data,
                packet.fragmentOffset() << 3, packet.moreFragments());
    }

    /** ICMPv6 "time exceeded" for the datagram of this first fragment (see {@link IcmpTimeExceeded}). */
    @Override
    protected Object timeExceeded(ByteBufAllocator alloc, ByteBuf firstFragment) {
        return IcmpTimeExceeded.forIpv6(alloc, firstFragment);
    }

    /**
     * The whole packet: the first fragment's headers up to the fragment header (copied, with the
     * next header that pointed at the fragment header now naming what followed it, and the new
     * payload length), then the payload. Null, counted, if the result is not a valid packet.
     */
    @Override
    protected Ipv6Packet rebuild(ChannelHandlerContext ctx, Reassembled whole) {
        try {
            ByteBuf first = whole.header();
            int start = first.readerIndex();
            int fragmentHeader = first.readableBytes() - Ipv6ExtensionHeader.FRAGMENT_LENGTH;
            int payloadLength = fragmentHeader - Ipv6Header.LENGTH + whole.content().readableBytes();
            if (payloadLength > Ipv6Header.MAX_PAYLOAD_LENGTH) {
                countDrop(DropReason.FRAGMENT_INCONSISTENT);
                return null;
            }
            ByteBuf header = ctx.alloc().buffer(fragmentHeader);
            header.writeBytes(first, start, fragmentHeader);
            header.setShort(4, payloadLength);
            header.setByte(nextHeaderFieldBefore(header, fragmentHeader),
                    Ipv6ExtensionHeader.nextHeader(first, start + fragmentHeader));
            CompositeByteBuf packet = ctx.alloc().compositeBuffer(2);
            packet.addComponent(true, header);
            packet.addComponent(true, whole.content().retain());
            ParseResult<Ipv6Packet> parsed = Ipv6Packet.parse(packet);
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

    /** Index of the next-header byte that names the header at {@code target}: the fixed header's or an extension header's. */
    private static int nextHeaderFieldBefore(ByteBuf header, int target) {
        int field = 6;
        int type = header.getUnsignedByte(field);
        int at = Ipv6Header.LENGTH;
        while (at < target) {
            field = at;
            int length = Ipv6ExtensionHeader.length(header, at, type);
            type = header.getUnsignedByte(at);
            at += length;
        }
        return field;
    }

    /**
     * Transparent to the fused path, over IP packets: IPv4 goes through untouched; IPv6 (and with
     * it every fragment this handler holds) never takes the fused path, as for {@code Ipv6Codec}.
     */
    @Override
    protected Bytes fusedTransparentOver() {
        return Bytes.IP_PACKET;
    }
}
