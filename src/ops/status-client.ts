// The status page's script (inlined in the page; hand-written SVG, no library, no network but the
// node's own /status.json and /series.json). It polls /status.json for the tables and cards, and
// /series.json?since=<last sample> for the charts, appending new samples to what it holds and
// dropping those older than the window: the page is never reloaded. Each chart figure carries
// data-samples (samples drawn), data-last (the newest value) and, for counts, data-total (the
// sum over the window); each polyline data-points (its vertices), so tests can read what is drawn.
// (Plain ES5 in a string: no template literals inside.)

export const STATUS_SCRIPT = String.raw`
(function(){
  var esc=function(s){return String(s).replace(/[&<>"']/g,function(c){return '&#'+c.charCodeAt(0)+';'})};
  var dur=function(s){if(s===null)return '';if(s<60)return s+'s';if(s<3600)return Math.floor(s/60)+'m '+(s%60)+'s';return Math.floor(s/3600)+'h '+Math.floor((s%3600)/60)+'m'};
  var $=function(id){return document.getElementById(id)};
  var polls=0, S={samples:[],changes:[],interval:1000,win:900000,now:0,last:0,nodes:[],series:0};
  function render(s){
    document.body.setAttribute('data-polls',String(++polls));
    S.nodes=s.nodes;
    $('nodes').tBodies[0].innerHTML=s.nodes.map(function(n){
      return '<tr class="node" data-key="'+esc(n.key)+'" data-status="'+esc(n.status)+'"><td>'+esc(n.key)+(n.local?' <em>(this node)</em>':'')+(n.seed?' <em>(seed)</em>':'')+'</td><td class="st '+esc(n.status)+'">'+esc(n.status)+'</td><td>'+dur(n.in_state_s)+'</td></tr>'}).join('');
    $('changes').tBodies[0].innerHTML=s.changes.map(function(c){
      return '<tr><td>'+esc(new Date(c.at).toISOString().replace('T',' ').slice(0,23))+'</td><td>'+esc(c.node)+'</td><td>'+esc(c.from)+' → '+esc(c.to)+'</td><td>'+esc(c.trigger)+'</td></tr>'}).join('');
    $('bindings').textContent=s.bindings;
    $('aors').textContent=s.aors;
    $('htables').textContent=s.htables.map(function(t){return t.name+': '+t.items}).join(', ')||'none';
    $('kdmq').textContent=s.kdmq.sent+' / '+s.kdmq.received;
    $('ae').textContent=s.antientropy?s.antientropy.rounds+' / '+s.antientropy.repairs:'off';
    $('uptime').textContent=dur(s.uptime_s);
    $('updated').textContent=new Date(s.now).toISOString();
  }
  function poll(){
    fetch('/status.json',{cache:'no-store'}).then(function(r){return r.json()}).then(render).catch(function(){
      $('updated').textContent='(node not reachable)'}).then(function(){setTimeout(poll,1000)});
  }
  // ---- charts ----
  var fmt=function(v){return v>=100||v===Math.round(v)?String(Math.round(v)):v.toFixed(v<1?2:1)};
  function nice(m){if(!(m>0))return 1;var p=Math.pow(10,Math.floor(Math.log10(m)));var f=m/p;return (f<=1?1:f<=2?2:f<=5?5:10)*p}
  function keysOf(field){var k={};S.samples.forEach(function(s){for(var x in s[field])k[x]=1});return Object.keys(k).sort()}
  function lineChart(id,o){
    var fig=$(id), box=fig.querySelector('.plot'), W=Math.max(240,Math.round(box.clientWidth||480)), H=150, L=38, R=8, T=8, B=20;
    var pw=W-L-R, ph=H-T-B, t1=S.now, t0=t1-S.win, max=0;
    o.series.forEach(function(sr){sr.pts.forEach(function(p){if(p[1]>max)max=p[1]})});
    var top=nice(max), X=function(t){return L+(t-t0)/(t1-t0)*pw}, Y=function(v){return T+ph-v/top*ph};
    var svg='<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="'+id+'-t '+id+'-d" width="'+W+'" height="'+H+'" viewBox="0 0 '+W+' '+H+'">';
    var desc=o.series.map(function(sr){var v=sr.pts.length?sr.pts[sr.pts.length-1][1]:0;var pk=sr.pts.reduce(function(a,p){return Math.max(a,p[1])},0);
      return sr.name+': now '+fmt(v)+', peak '+fmt(pk)}).join('; ')||'no data yet';
    svg+='<title id="'+id+'-t">'+esc(o.title)+', last 15 minutes</title><desc id="'+id+'-d">'+esc(desc)+'</desc><g class="grid">';
    [0,0.5,1].forEach(function(f){var y=Y(top*f);svg+='<line x1="'+L+'" x2="'+(W-R)+'" y1="'+y+'" y2="'+y+'"/><text class="axis" x="'+(L-4)+'" y="'+(y+4)+'" text-anchor="end">'+fmt(top*f)+'</text>'});
    svg+='</g>';
    [15,10,5,0].forEach(function(m){svg+='<text class="axis" x="'+X(t1-m*60000)+'" y="'+(H-5)+'" text-anchor="'+(m===15?'start':m===0?'end':'middle')+'">'+(m?'-'+m+' min':'now')+'</text>'});
    if(!o.series.length)svg+='<text class="empty" x="'+(L+pw/2)+'" y="'+(T+ph/2)+'" text-anchor="middle">no data yet</text>';
    var dashes=['','6 3','2 3','8 3 2 3'];
    o.series.forEach(function(sr,i){
      var pts=sr.pts.filter(function(p){return p[0]>=t0}).map(function(p){return X(p[0]).toFixed(1)+','+Y(p[1]).toFixed(1)});
      var c='s'+(i%8);
      svg+='<polyline class="line '+c+'" data-series="'+esc(sr.name)+'" data-points="'+pts.length+'"'+(i%4?' stroke-dasharray="'+dashes[i%4]+'"':'')+' points="'+pts.join(' ')+'"/>';
      if(pts.length){var q=pts[pts.length-1].split(',');svg+='<circle class="dot '+c+'" cx="'+q[0]+'" cy="'+q[1]+'" r="3.5"/>'}
    });
    box.innerHTML=svg+'</svg>';
    fig.querySelector('.legend').innerHTML=o.series.map(function(sr,i){var v=sr.pts.length?sr.pts[sr.pts.length-1][1]:0;
      return '<li><span class="sw s'+(i%8)+' d'+(i%4)+'" aria-hidden="true"></span>'+esc(sr.name)+' <b>'+fmt(v)+(o.unit?' '+esc(o.unit):'')+'</b></li>'}).join('');
    var first=o.series[0];
    fig.setAttribute('data-samples',String(S.samples.length));
    fig.setAttribute('data-last',first&&first.pts.length?String(first.pts[first.pts.length-1][1]):'0');
    if(o.total!==undefined)fig.setAttribute('data-total',String(o.total));
  }
  // samples are grouped into buckets of BM ms (at most 180 per window, aligned to the clock): a
  // rate is a bucket's count over its time, a level its largest value (bindings: its last)
  var BM=5000;
  function groups(){var g=[],cur=null;S.samples.forEach(function(s){var k=Math.floor(s.at/BM);if(!cur||cur.k!==k){cur={k:k,at:s.at,list:[]};g.push(cur)}cur.at=s.at;cur.list.push(s)});return g}
  function rateOf(g,get){var n=0,dt=0;g.list.forEach(function(s){n+=get(s);dt+=s.dt_ms});return dt>0?n/(dt/1000):0}
  function maxOf(g,get){return g.list.reduce(function(a,s){return Math.max(a,get(s))},0)}
  function perKey(G,field,asRate){return keysOf(field).map(function(k){var get=function(s){return s[field][k]||0};
    return {name:k,pts:G.map(function(g){return [g.at,asRate?rateOf(g,get):maxOf(g,get)]})}})}
  function timeline(){
    var fig=$('chart-membership'), box=fig.querySelector('.plot'), W=Math.max(240,Math.round(box.clientWidth||480)), t1=S.now, t0=t1-S.win, L=4, R=8, pw=W-L-R;
    var X=function(t){return L+Math.max(0,(t-t0)/(t1-t0))*pw}, lanes={}, order=[];
    S.nodes.forEach(function(n){if(!n.local){lanes[n.key]={now:n.status,ch:[]};order.push(n.key)}});
    S.changes.forEach(function(c){if(!lanes[c.node]){lanes[c.node]={now:'removed',ch:[]};order.push(c.node)}lanes[c.node].ch.push(c)});
    var LH=30, H=Math.max(1,order.length)*LH+22;
    var svg='<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-membership-t chart-membership-d" width="'+W+'" height="'+H+'" viewBox="0 0 '+W+' '+H+'">';
    svg+='<title id="chart-membership-t">Membership changes, last 15 minutes</title><desc id="chart-membership-d">'+S.changes.length+' changes of '+order.length+' nodes (listed in the table below)</desc>';
    if(!order.length)svg+='<text class="empty" x="'+(W/2)+'" y="16" text-anchor="middle">no other node</text>';
    order.forEach(function(k,i){
      var ln=lanes[k], y=i*LH, st=ln.ch.length?ln.ch[0].from:ln.now, from=t0;
      svg+='<text class="lane" x="'+L+'" y="'+(y+11)+'">'+esc(k)+'</text>';
      var seg=function(a,b,s){if(b>a&&s!=='removed')svg+='<rect class="seg '+esc(s)+'" x="'+X(a).toFixed(1)+'" y="'+(y+15)+'" width="'+Math.max(1,X(b)-X(a)).toFixed(1)+'" height="10"><title>'+esc(k+': '+s)+'</title></rect>'};
      ln.ch.forEach(function(c){seg(from,c.at,st);from=c.at;st=c.to});
      seg(from,t1,st);
      ln.ch.forEach(function(c){var x=X(c.at).toFixed(1);svg+='<line class="tick" x1="'+x+'" x2="'+x+'" y1="'+(y+13)+'" y2="'+(y+27)+'"><title>'+esc(new Date(c.at).toISOString().slice(11,19)+' '+c.from+' → '+c.to+' ('+c.trigger+')')+'</title></line>'});
    });
    [15,10,5,0].forEach(function(m){svg+='<text class="axis" x="'+X(t1-m*60000)+'" y="'+(H-5)+'" text-anchor="'+(m===15?'start':m===0?'end':'middle')+'">'+(m?'-'+m+' min':'now')+'</text>'});
    box.innerHTML=svg+'</svg>';
    fig.setAttribute('data-changes',String(S.changes.length));
    fig.setAttribute('data-lanes',String(order.length));
  }
  function draw(){
    var G=groups(), sum=function(f){return S.samples.reduce(function(a,s){for(var k in s[f])a+=s[f][k];return a},0)};
    var regs=S.samples.reduce(function(a,s){return a+s.registers},0);
    lineChart('chart-registers',{title:'REGISTER/s',unit:'/s',total:regs,series:G.length?[{name:'REGISTERs answered',pts:G.map(function(g){return [g.at,rateOf(g,function(s){return s.registers})]})}]:[]});
    lineChart('chart-sent',{title:'KDMQ sent per channel',unit:'/s',total:sum('sent'),series:perKey(G,'sent',true)});
    lineChart('chart-received',{title:'KDMQ received per channel',unit:'/s',total:sum('received'),series:perKey(G,'received',true)});
    lineChart('chart-backlog',{title:'Replication backlog per node',unit:'',series:perKey(G,'backlog',false)});
    lineChart('chart-bindings',{title:'Bindings',unit:'',series:G.length?[{name:'bindings',pts:G.map(function(g){return [g.at,g.list[g.list.length-1].bindings]})}]:[]});
    timeline();
    document.body.setAttribute('data-series-polls',String(S.series));
  }
  function pollSeries(){
    fetch('/series.json?since='+S.last,{cache:'no-store'}).then(function(r){return r.json()}).then(function(j){
      S.series++;S.interval=j.interval_ms;S.win=j.window_ms;S.now=j.now;S.changes=j.changes;BM=Math.max(j.interval_ms,Math.ceil(j.window_ms/180));
      S.samples=S.samples.concat(j.samples).filter(function(s){return s.at>j.now-j.window_ms});
      if(S.samples.length)S.last=S.samples[S.samples.length-1].at;
      draw();
    }).catch(function(){}).then(function(){setTimeout(pollSeries,S.interval)});
  }
  window.addEventListener('resize',function(){if(S.series)draw()});
  setTimeout(poll,1000);
  pollSeries();
})();
`;
